import Foundation
@_exported import InkwellFiles

// Parameter values are `JSONValue`s (InkwellFiles); a strategy is an object with its `name`
// (`StrategyChoice.json`).

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
    public var defaultValue: JSONValue?
    public var documentation: String
    /// Returns a reason when the value is not acceptable (e.g. "must be at least 1"), nil when it is.
    public var check: (@Sendable (JSONValue) -> String?)?

    public init(
        _ name: String, _ type: ParameterType, default defaultValue: JSONValue?, _ documentation: String,
        check: (@Sendable (JSONValue) -> String?)? = nil
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.documentation = documentation
        self.check = check
    }

    /// A check that a number lies in a closed range.
    public static func range(_ low: Double?, _ high: Double?) -> @Sendable (JSONValue) -> String? {
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

    /// A number as `inkwell stages` shows it: whole numbers without a fraction.
    public static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

/// A stage's parameters after validation: every declared parameter present (defaults filled in),
/// paths resolved to absolute paths, strategies with their defaults.
public struct ResolvedParameters: Sendable, Equatable {
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) { self.values = values }

    public subscript(name: String) -> JSONValue? { values[name] }

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
        guard case .array(let items) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared list") }
        return items.map(\.description)
    }

    public func strategy(_ name: String) -> StrategyChoice {
        guard let choice = StrategyChoice(values[name]) else { preconditionFailure("parameter '\(name)' is not a declared strategy") }
        return choice
    }

    /// Canonical JSON (sorted keys) of the values: what is hashed into the cache key and written to
    /// the stage's params.json.
    public func canonicalJSON() -> Data {
        var object: [String: Any] = [:]
        for (k, v) in values { object[k] = v.jsonObject }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
    }
}

extension ParameterSpec {
    /// Why `value` is not acceptable (not one of a choice's options, or the declared check's
    /// reason), or nil when it is.
    public func problem(_ value: JSONValue) -> String? {
        if case .choice(let options) = type, !options.contains(value.description) {
            return "must be one of \(options.joined(separator: ", "))"
        }
        return check?(value)
    }
}

/// A value given outside a pipeline file (a command-line flag) that its declaration rejects, as
/// one line: `--batch must be at least 2, got 1`.
public struct ParameterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Array where Element == ParameterSpec {
    /// The declaration of `name` (a programming error when there is none).
    public subscript(named name: String) -> ParameterSpec {
        guard let spec = first(where: { $0.name == name }) else { preconditionFailure("no parameter '\(name)' is declared") }
        return spec
    }

    /// Checks values given by name outside a pipeline file (a command's flags) against these
    /// declarations and fills in the defaults of the rest, so a command and its stage share one
    /// declaration. `flag` names a parameter in the error (`"batch"` -> `"--batch"`).
    public func resolve(_ given: [String: JSONValue], flag: (String) -> String) throws -> ResolvedParameters {
        var values: [String: JSONValue] = [:]
        for spec in self {
            if let value = given[spec.name] {
                if let problem = spec.problem(value) { throw ParameterError("\(flag(spec.name)) \(problem), got \(value)") }
                values[spec.name] = value
            } else if let value = spec.defaultValue {
                values[spec.name] = value
            }
        }
        return ResolvedParameters(values)
    }
}
