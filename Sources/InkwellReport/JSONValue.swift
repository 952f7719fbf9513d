import Foundation

/// A parsed JSON document of unknown shape (config.json, evaluation files, checkpoint state).
///
/// The report reads files written by other parts of Inkwell (and possibly by older versions), so
/// it looks values up leniently: a missing key or a value of another type reads as `nil`, never a
/// crash. Non-finite numbers written as the strings "NaN", "Infinity" and "-Infinity" read as
/// numbers.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

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

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value at a dotted path of object keys (`"beta.target"`), or nil.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// The number this value holds (numbers, and numeric strings), or nil.
    public var double: Double? {
        switch self {
        case .number(let v): return v
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// The integer this value holds when it is a whole number, or nil.
    public var int: Int? {
        guard let v = double, v.isFinite, v == v.rounded(), abs(v) < 9e15 else { return nil }
        return Int(v)
    }

    /// The string this value holds, or nil.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements of an array, or nil.
    public var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members of an object, or nil.
    public var object: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// An array of numbers (non-numbers read as NaN), or nil when this is not an array.
    public var doubles: [Double]? {
        array?.map { $0.double ?? .nan }
    }

    /// A short human-readable rendering: scalars as text, containers as compact JSON.
    public var displayText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let v): return NumberFormat.compact(v)
        case .string(let s): return s
        case .array(let a): return "[" + a.map { $0.displayText }.joined(separator: ", ") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { "\($0): \(o[$0]!.displayText)" }.joined(separator: ", ") + "}"
        }
    }

    /// Flattens nested objects into `(dotted.key, scalar or array)` pairs, keys sorted.
    public func flattened(prefix: String = "") -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = self else { return [(prefix, self)] }
        if members.isEmpty { return prefix.isEmpty ? [] : [(prefix, self)] }
        var result: [(key: String, value: JSONValue)] = []
        for key in members.keys.sorted() {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            result += members[key]!.flattened(prefix: path)
        }
        return result
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
