import Foundation

/// A parameter value as written in a pipeline file, after variable substitution.
public indirect enum ParameterValue: Equatable, Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case list([ParameterValue])
    /// A strategy chosen by name with its own parameters (`beta: {name: dual-gradient, target: 0.1}`).
    case strategy(StrategySetting)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let v): return v
        case .list(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        case .strategy(let s): return s.description
        }
    }

    /// The value as a JSON-compatible object (for resolved-parameter files and cache keys).
    public var jsonObject: Any {
        switch self {
        case .int(let v): return v
        case .double(let v): return v
        case .bool(let v): return v
        case .string(let v): return v
        case .list(let v): return v.map(\.jsonObject)
        case .strategy(let s):
            var object: [String: Any] = ["name": s.name]
            for (k, v) in s.parameters { object[k] = v.jsonObject }
            return object
        }
    }

    /// The name of the value's type as the user sees it.
    public var typeName: String {
        switch self {
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .string: return "string"
        case .list: return "list"
        case .strategy: return "strategy"
        }
    }
}

/// A strategy chosen by name, with its parameters (defaults filled in once resolved).
public struct StrategySetting: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var parameters: [String: ParameterValue]

    public init(name: String, parameters: [String: ParameterValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        if parameters.isEmpty { return name }
        let inner = parameters.keys.sorted().map { "\($0): \(parameters[$0]!)" }.joined(separator: ", ")
        return "\(name) {\(inner)}"
    }
}

/// The type a parameter accepts. Integers are accepted where numbers are expected.
public enum ParameterType: Sendable, Equatable, CustomStringConvertible {
    case int
    case double
    case bool
    case string
    /// A file or folder path; relative paths are resolved against the pipeline file's folder, and
    /// the content digest of what it names is part of the stage's cache key.
    case path
    /// One of a fixed set of strings.
    case choice([String])
    /// A list of strings.
    case stringList
    /// A strategy of the named family ("kld", "beta", "schedule", ...), by name with parameters.
    case strategy(family: String)

    public var description: String {
        switch self {
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .string: return "string"
        case .path: return "path"
        case .choice(let options): return "one of " + options.joined(separator: "|")
        case .stringList: return "list of strings"
        case .strategy(let family): return "\(family) strategy"
        }
    }
}

/// One declared parameter of a stage kind or strategy: name, type, default, documentation and an
/// optional check of the value.
public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    /// The default; nil means the parameter is required.
    public var defaultValue: ParameterValue?
    public var documentation: String
    /// Returns a reason when the value is not acceptable (e.g. "must be at least 1"), nil when it is.
    public var check: (@Sendable (ParameterValue) -> String?)?

    public init(
        _ name: String, _ type: ParameterType, default defaultValue: ParameterValue?, _ documentation: String,
        check: (@Sendable (ParameterValue) -> String?)? = nil
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.documentation = documentation
        self.check = check
    }

    /// A check that a number lies in a closed range.
    public static func range(_ low: Double?, _ high: Double?) -> @Sendable (ParameterValue) -> String? {
        return { value in
            let x: Double
            switch value {
            case .int(let v): x = Double(v)
            case .double(let v): x = v
            default: return nil
            }
            if let low, x < low { return "must be at least \(ParameterSpec.format(low))" }
            if let high, x > high { return "must be at most \(ParameterSpec.format(high))" }
            return nil
        }
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

/// A stage's parameters after validation: every declared parameter present (defaults filled in),
/// paths resolved to absolute paths, strategies with their defaults.
public struct ResolvedParameters: Sendable, Equatable {
    public var values: [String: ParameterValue]

    public init(_ values: [String: ParameterValue]) { self.values = values }

    public subscript(name: String) -> ParameterValue? { values[name] }

    public func int(_ name: String) -> Int {
        switch values[name] {
        case .int(let v): return v
        case .double(let v): return Int(v)
        default: preconditionFailure("parameter '\(name)' is not a declared integer")
        }
    }

    public func double(_ name: String) -> Double {
        switch values[name] {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: preconditionFailure("parameter '\(name)' is not a declared number")
        }
    }

    public func bool(_ name: String) -> Bool {
        guard case .bool(let v) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared boolean") }
        return v
    }

    public func string(_ name: String) -> String {
        guard case .string(let v) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared string") }
        return v
    }

    /// An optional string parameter (declared with an empty-string default meaning "not set").
    public func optionalString(_ name: String) -> String? {
        guard case .string(let v) = values[name], !v.isEmpty else { return nil }
        return v
    }

    public func url(_ name: String) -> URL {
        URL(fileURLWithPath: string(name))
    }

    public func strings(_ name: String) -> [String] {
        guard case .list(let items) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared list") }
        return items.map(\.description)
    }

    public func strategy(_ name: String) -> StrategySetting {
        guard case .strategy(let v) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared strategy") }
        return v
    }

    /// Canonical JSON (sorted keys) of the values: what is hashed into the cache key and written to
    /// the stage's params.json.
    public func canonicalJSON() -> Data {
        var object: [String: Any] = [:]
        for (k, v) in values { object[k] = v.jsonObject }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
    }
}
