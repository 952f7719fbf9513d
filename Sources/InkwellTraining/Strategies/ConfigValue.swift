import Foundation

/// A JSON- or YAML-shaped configuration value: how strategy parameters travel from a config file
/// to the typed `Parameters` of the strategy that is chosen by name.
public enum ConfigValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ConfigValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: ConfigValue].self) { self = .object(o) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// A strategy chosen by name with its parameters, as written in a configuration file:
/// `{"name": "dual-gradient", "target": 0.1, "step": 0.1}` (parameters beside the name).
public struct StrategyChoice: Codable, Equatable, Sendable {
    public var name: String
    public var parameters: [String: ConfigValue]

    public init(name: String, parameters: [String: ConfigValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Swift.Decoder) throws {
        // A bare string is a name with default parameters.
        if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
            self.init(name: name)
            return
        }
        let c = try decoder.container(keyedBy: Key.self)
        var name: String?
        var parameters: [String: ConfigValue] = [:]
        for key in c.allKeys {
            if key.stringValue == "name" { name = try c.decode(String.self, forKey: key) }
            else { parameters[key.stringValue] = try c.decode(ConfigValue.self, forKey: key) }
        }
        guard let name else {
            throw DecodingError.keyNotFound(Key(stringValue: "name"), .init(codingPath: c.codingPath, debugDescription: "a strategy needs a \"name\""))
        }
        self.init(name: name, parameters: parameters)
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key(stringValue: "name"))
        for (key, value) in parameters.sorted(by: { $0.key < $1.key }) { try c.encode(value, forKey: Key(stringValue: key)) }
    }

    /// Decodes the parameters into a strategy's typed `Parameters`, starting from its defaults
    /// (`P()`) and overriding the keys given. Unknown keys are an error naming the strategy and
    /// the key, so a typo does not silently fall back to a default.
    public func decodeParameters<P: StrategyParameters>(_ type: P.Type) throws -> P {
        var merged: [String: ConfigValue]
        do {
            let defaults = try JSONDecoder().decode([String: ConfigValue].self, from: JSONEncoder().encode(P()))
            merged = defaults
            if let unknown = parameters.keys.sorted().first(where: { defaults[$0] == nil }) {
                throw TrainingError.configuration("strategy '\(name)': unknown parameter '\(unknown)' (known: \(defaults.keys.sorted().joined(separator: ", ")))")
            }
            for (key, value) in parameters { merged[key] = value }
            return try JSONDecoder().decode(P.self, from: JSONEncoder().encode(merged))
        } catch let error as DecodingError {
            throw TrainingError.configuration("strategy '\(name)': bad parameters: \(describe(error))")
        }
    }

    /// The full parameter set (defaults overridden by the given keys), as written to config.json.
    public func resolved<P: StrategyParameters>(_ parameters: P) throws -> StrategyChoice {
        let values = try JSONDecoder().decode([String: ConfigValue].self, from: JSONEncoder().encode(parameters))
        return StrategyChoice(name: name, parameters: values)
    }
}

/// A strategy's typed parameters: `init()` gives the defaults; configuration overrides them by key.
public protocol StrategyParameters: Codable, Sendable {
    init()
}

/// A short description of a decoding error: the key path and the reason.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map(\.stringValue).joined(separator: ".")
        return p.isEmpty ? "" : "'\(p)': "
    }
    switch error {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c) + c.debugDescription
    case .keyNotFound(let key, let c): return path(c) + "missing '\(key.stringValue)'"
    @unknown default: return "\(error)"
    }
}

/// The saved state of a strategy (in a checkpoint's state.json): named number arrays, which hold
/// every Float and Double exactly.
public typealias StrategyState = [String: [Double]]
