import Foundation
import Inkwell

/// A beta strategy that Inkwell does not ship: dual gradient ascent in log space,
///
///     beta <- clamp(beta * exp(rate * (KLD - target)), min, max)
///
/// so beta moves by a factor rather than a fixed amount: it reacts as fast at beta = 0.01 as at
/// beta = 10, where the additive rule (`dual-gradient`) is either too slow or overshoots below
/// zero. Parameters: `target` 0.1, `rate` 0.05, `initial` 10, `min` 1e-4, `max` 1e4.
/// State: `beta`.
public final class LogDualGradientBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var target: Double = 0.1
        public var rate: Double = 0.05
        public var initial: Double = 10
        public var min: Double = 1e-4
        public var max: Double = 1e4
        public init() {}
    }

    public static let name = "log-dual-gradient"
    public static let documentation = "dual-gradient ascent on log beta: beta <- beta exp(rate (KLD - target))"
    public let parameters: Parameters
    public private(set) var beta: Double

    public init(parameters: Parameters) {
        self.parameters = parameters
        beta = Swift.min(Swift.max(parameters.initial, parameters.min), parameters.max)
    }

    public var target: Double? { parameters.target }

    public func update(kld: Double, step: Int) {
        guard kld.isFinite else { return }
        let factor = Foundation.exp(Swift.max(-50, Swift.min(50, parameters.rate * (kld - parameters.target))))
        beta = Swift.min(Swift.max(beta * factor, parameters.min), parameters.max)
    }

    public func saveState() -> StrategyState { ["beta": [beta]] }

    public func loadState(_ state: StrategyState) throws {
        guard let values = state["beta"], values.count == 1, values[0].isFinite else {
            throw StageError("\(Self.name) beta state: 'beta' missing or not one finite value")
        }
        beta = values[0]
    }
}
