import Foundation
@_exported import InkwellFiles

/// Reading the JSON files other parts of Inkwell wrote (possibly older versions) into
/// `JSONValue` (InkwellFiles). Non-finite numbers written as the strings "NaN", "Infinity" and
/// "-Infinity" read as numbers.
extension JSONValue {
    /// Parses a JSON document; the error names `source` (a file name) and the reason.
    public static func parse(_ data: Data, source: String) throws -> JSONValue {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(JSONValue.self, from: data)
        } catch {
            throw ReportError.unreadable(source, reason: "not valid JSON (\(JSONValue.describe(error)))")
        }
    }

    /// Reads and parses a JSON file.
    public static func read(_ url: URL) throws -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ReportError.unreadable(url.path, reason: "cannot be read")
        }
        return try parse(data, source: url.path)
    }

    /// A short human-readable rendering: scalars as text (numbers compact), containers as compact JSON.
    public var displayText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return NumberFormat.compact(Double(v))
        case .double(let v): return NumberFormat.compact(v)
        case .string(let s): return s
        case .array(let a): return "[" + a.map { $0.displayText }.joined(separator: ", ") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { "\($0): \(o[$0]!.displayText)" }.joined(separator: ", ") + "}"
        }
    }

    static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context):
                if let underlying = context.underlyingError as NSError? {
                    return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
                }
                return context.debugDescription
            default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}
