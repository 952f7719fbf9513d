import Foundation
import Yams

/// Where a value came from: a pipeline file position, or a `--set` override.
public struct SourceLocation: Equatable, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
}

/// A YAML document as a tree whose every node keeps its source location (built from Yams' Node
/// API, whose marks carry line and column). Overrides from the command line are grafted in with
/// their own locations, so errors about them name the `--set` that introduced them.
indirect enum SourceNode {
    case scalar(String, Tag.Name, quoted: Bool, SourceLocation)
    case mapping([(key: SourceNode, value: SourceNode)], SourceLocation)
    case sequence([SourceNode], SourceLocation)

    var location: SourceLocation {
        switch self {
        case .scalar(_, _, _, let l), .mapping(_, let l), .sequence(_, let l): return l
        }
    }

    /// The scalar's text, or nil for collections.
    var text: String? {
        if case .scalar(let s, _, _, _) = self { return s }
        return nil
    }

    var isNull: Bool {
        if case .scalar(_, let tag, false, _) = self { return tag == .null }
        return false
    }

    var pairs: [(key: SourceNode, value: SourceNode)]? {
        if case .mapping(let p, _) = self { return p }
        return nil
    }

    var items: [SourceNode]? {
        if case .sequence(let s, _) = self { return s }
        return nil
    }

    var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The value for a key in a mapping (the first, when duplicated).
    subscript(key: String) -> SourceNode? {
        pairs?.first(where: { $0.key.text == key })?.value
    }

    /// Sets a key in a mapping (replacing the first occurrence); no effect on other nodes.
    mutating func set(_ key: String, _ value: SourceNode, keyLocation: SourceLocation) {
        guard case .mapping(var pairs, let location) = self else { return }
        if let i = pairs.firstIndex(where: { $0.key.text == key }) {
            pairs[i].value = value
        } else {
            pairs.append((.scalar(key, .str, quoted: false, keyLocation), value))
        }
        self = .mapping(pairs, location)
    }

    /// Parses YAML text into a tree; errors become diagnostics located in `file`.
    static func parse(_ text: String, file: String) throws -> SourceNode? {
        do {
            guard let node = try Yams.compose(yaml: text) else { return nil }
            return convert(node, file: file)
        } catch let error as YamlError {
            throw PipelineValidationError([tabInIndentation(text, file: file) ?? diagnostic(for: error, file: file)])
        }
    }

    /// The first tab in a line's indentation, which YAML forbids (the parser's own message does
    /// not say "tab"), as a diagnostic at its line and column.
    static func tabInIndentation(_ text: String, file: String) -> PipelineDiagnostic? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            if let tab = indentation.firstIndex(of: "\t") {
                return PipelineDiagnostic(file: file, line: index + 1, column: line.distance(from: line.startIndex, to: tab) + 1,
                                          message: "a tab character in the indentation: YAML indents with spaces only")
            }
        }
        return nil
    }

    /// Decodes `data` as UTF-8; a byte sequence that is not UTF-8 is a diagnostic naming the byte,
    /// its line and column, and its offset in the file.
    static func decodeUTF8(_ data: Data, file: String) throws -> String {
        if let text = String(data: data, encoding: .utf8) { return text }
        let bytes = [UInt8](data)
        var offset = 0, line = 1, column = 1
        while offset < bytes.count {
            let b = bytes[offset]
            let length = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            let end = offset + length
            if length == 0 || end > bytes.count || String(bytes: bytes[offset..<end], encoding: .utf8) == nil { break }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            offset = end
        }
        let byte = offset < bytes.count ? String(format: "0x%02X", bytes[offset]) : "end of file"
        throw PipelineValidationError([PipelineDiagnostic(file: file, line: line, column: column,
            message: "the pipeline file is not UTF-8 text: byte \(byte) at offset \(offset) does not start a valid character")])
    }

    static func convert(_ node: Node, file: String) -> SourceNode {
        func location(_ mark: Mark?) -> SourceLocation {
            SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal || scalar.style == .folded
            return .scalar(scalar.string, quoted ? .str : plainTag(scalar.string), quoted: quoted, location(scalar.mark))
        case .mapping(let mapping):
            return .mapping(mapping.map { (convert($0.key, file: file), convert($0.value, file: file)) }, location(mapping.mark))
        case .sequence(let sequence):
            return .sequence(sequence.map { convert($0, file: file) }, location(sequence.mark))
        }
    }

    /// The YAML 1.1 core-schema type of a plain (unquoted) scalar.
    static func plainTag(_ text: String) -> Tag.Name {
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if ["true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"].contains(text) {
            return .bool
        }
        let digits = text.replacingOccurrences(of: "_", with: "")
        if Int(digits) != nil { return .int }
        if Double(digits) != nil, digits.rangeOfCharacter(from: .letters.subtracting(CharacterSet(charactersIn: "eE"))) == nil { return .float }
        return .str
    }

    static func diagnostic(for error: YamlError, file: String) -> PipelineDiagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let where_ = context.map { " \($0.text)" } ?? ""
            return PipelineDiagnostic(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)\(where_)")
        case .reader(let problem, _, _, _):
            return PipelineDiagnostic(file: file, line: 1, column: 1, message: "unreadable YAML: \(problem)")
        default:
            return PipelineDiagnostic(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
        }
    }
}
