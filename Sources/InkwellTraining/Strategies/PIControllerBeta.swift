import Foundation

/// A PI controller on the KLD error (ControlVAE, Shao et al. 2020), steering the KLD to `target`.
/// With e = target - KLD:
///
///     P = kp / (1 + exp(e)),   I <- I - ki * e,
///     beta = clamp(P + I + min, min, max)
///
/// A KLD above target (e < 0) raises beta; below target lowers it. The integral is only
/// accumulated while beta is inside [min, max] (anti-windup). Parameters: `target` 0.1, `kp` 0.01,
/// `ki` 1e-4, `initial` 10 (beta before the first update, reached by seeding the integral),
/// `min` 1e-3, `max` 100. State: `integral`, `beta`.
public final class PIControllerBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var target: Double = 0.1
        public var kp: Double = 0.01
        public var ki: Double = 1e-4
        public var initial: Double = 10
        public var min: Double = 1e-3
        public var max: Double = 100
        public init() {}
    }
    public static let name = "pi-controller"
    public static let documentation = "PI controller on the KLD error steering the KLD to 'target' (ControlVAE)"
    public let parameters: Parameters
    public private(set) var beta: Double
    private var integral: Double

    public init(parameters: Parameters = .init()) {
        self.parameters = parameters
        beta = parameters.initial
        integral = parameters.initial - parameters.min
    }

    public var target: Double? { parameters.target }

    public func update(kld: Double, step: Int) {
        let p = parameters
        let error = p.target - kld
        let proportional = p.kp / (1 + Foundation.exp(Swift.min(error, 700)))
        let candidate = integral - p.ki * error
        let unclamped = proportional + candidate + p.min
        if unclamped >= p.min, unclamped <= p.max { integral = candidate }
        beta = Swift.min(Swift.max(proportional + integral + p.min, p.min), p.max)
    }

    public func saveState() -> StrategyState { ["beta": [beta], "integral": [integral]] }
    public func loadState(_ state: StrategyState) throws {
        beta = try scalar(state, "beta", strategy: Self.name)
        integral = try scalar(state, "integral", strategy: Self.name)
    }
}
