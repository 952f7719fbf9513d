import Foundation

/// A JSON value of unknown shape: pipeline parameters (after variable substitution), strategy
/// parameters in configuration files, and files read back (config.json, evaluation files,
/// checkpoint state). The one JSON value type of every module.
///
/// Integers and other numbers are distinct cases so that a pipeline's `2` stays `2` in its
/// parameter files and cache keys; the lenient accessors (`double`, `int`, ...) read either.
/// Looking a value up never crashes: a missing key or a value of another type reads as `nil`.
public indirect enum JSONValue: Codable, Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes any JSON (or YAML) value; whole numbers decode as `.int`.
    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else if let v = try? c.decode([String: JSONValue].self) { self = .object(v) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    /// A strategy choice as a value: `{"name": ..., parameters...}`.
    public static func strategy(_ choice: StrategyChoice) -> JSONValue { choice.json }

    /// Scalars as text (`2`, `0.5`, `true`, the string itself), lists as `[a, b]`, a strategy as
    /// `name {key: value, ...}`, other objects as `{key: value, ...}` (keys sorted).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let v): return v
        case .array(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        case .object(let o):
            if let choice = StrategyChoice(self) { return choice.description }
            return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    /// The value as a `JSONSerialization` object (for parameter files and cache keys).
    public var jsonObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let v): return v
        case .int(let v): return v
        case .double(let v): return v
        case .string(let v): return v
        case .array(let v): return v.map(\.jsonObject)
        case .object(let v): return v.mapValues(\.jsonObject)
        }
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

    /// The number this value holds (integers, numbers, and numeric strings), or nil.
    public var double: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// The integer this value holds when it is a whole number, or nil.
    public var int: Int? {
        if case .int(let v) = self { return v }
        guard let v = self.double, v.isFinite, v == v.rounded(), abs(v) < 9e15 else { return nil }
        return Int(v)
    }

    /// The boolean this value holds, or nil.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
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
        self.array?.map { $0.double ?? .nan }
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
}
