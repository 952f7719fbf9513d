import Foundation
@_exported import InkwellFiles

/// A strategy's typed parameters: `init()` gives the defaults; configuration overrides them by key.
public protocol StrategyParameters: Codable, Sendable {
    init()
    /// Why these values are not acceptable ("shift_x must not be negative, got -1"), or nil.
    var problem: String? { get }
}

extension StrategyParameters {
    public var problem: String? { nil }
}

extension StrategyParameters {
    /// The parameters as JSON values by key (how `inkwell stages` and pipeline validation see
    /// a strategy's defaults).
    public var jsonValues: [String: JSONValue] {
        (try? JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(self))) ?? [:]
    }
}

extension StrategyChoice {
    /// Decodes the parameters into a strategy's typed `Parameters`, starting from its defaults
    /// (`P()`) and overriding the keys given. Unknown keys are an error naming the strategy and
    /// the key, so a typo does not silently fall back to a default.
    public func decodeParameters<P: StrategyParameters>(_ type: P.Type) throws -> P {
        do {
            let defaults = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(P()))
            if let unknown = parameters.keys.sorted().first(where: { defaults[$0] == nil }) {
                throw TrainingError.configuration("strategy '\(name)': unknown parameter '\(unknown)' (known: \(defaults.keys.sorted().joined(separator: ", ")))")
            }
            let merged = defaults.merging(parameters) { _, given in given }
            let decoded = try JSONDecoder().decode(P.self, from: JSONEncoder().encode(merged))
            if let problem = decoded.problem { throw TrainingError.configuration("strategy '\(name)': \(problem)") }
            return decoded
        } catch let error as DecodingError {
            throw TrainingError.configuration("strategy '\(name)': bad parameters: \(describe(error))")
        }
    }

    /// The full parameter set (defaults overridden by the given keys), as written to config.json.
    public func resolved<P: StrategyParameters>(_ parameters: P) throws -> StrategyChoice {
        let values = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(parameters))
        return StrategyChoice(name: name, parameters: values)
    }
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
