import Foundation

/// A strategy chosen by name with its parameters, as a pipeline or configuration file writes it:
/// `{"name": "dual-gradient", "target": 0.1, "step": 0.1}` (parameters beside the name), or the
/// bare name for the strategy's defaults. The pipeline validates it against the strategy's
/// declared parameters; training builds the strategy from it (`StrategyRegistry`).
public struct StrategyChoice: Codable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var parameters: [String: JSONValue]

    public init(name: String, parameters: [String: JSONValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    /// The choice a value holds: a bare name, or an object with a string `name`; nil otherwise.
    public init?(_ value: JSONValue?) {
        switch value {
        case .string(let name)?: self.init(name: name)
        case .object(var members)?:
            guard case .string(let name)? = members.removeValue(forKey: "name") else { return nil }
            self.init(name: name, parameters: members)
        default: return nil
        }
    }

    /// The choice as a value: an object of the parameters and the name.
    public var json: JSONValue {
        .object(parameters.merging(["name": .string(name)]) { _, name in name })
    }

    /// `name`, or `name {key: value, ...}` (keys sorted).
    public var description: String {
        if parameters.isEmpty { return name }
        let inner = parameters.keys.sorted().map { "\($0): \(parameters[$0]!)" }.joined(separator: ", ")
        return "\(name) {\(inner)}"
    }

    public init(from decoder: Swift.Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard let choice = StrategyChoice(value) else {
            let reason = value.object == nil ? "a strategy is a name or {name: ..., parameters...}" : "a strategy needs a \"name\""
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: reason))
        }
        self = choice
    }

    /// Writes one object: `name` beside the parameters (the encoder decides the key order; use
    /// `.sortedKeys` where bytes must not vary).
    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key(stringValue: "name"))
        for (key, value) in parameters.sorted(by: { $0.key < $1.key }) { try c.encode(value, forKey: Key(stringValue: key)) }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
