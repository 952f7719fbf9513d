/// Dual gradient ascent on beta (Variational Discriminator Bottleneck, Peng et al.):
/// beta <- max(min, beta + step * (KLD - target)).
///
/// Parameters (the seed's values): `initial` 10, `step` 0.1, `target` 0.1, `min` 1e-3. State: `beta`.
public final class DualGradientBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var initial: Double = 10
        public var step: Double = 0.1
        public var target: Double = 0.1
        public var min: Double = 1e-3
        public init() {}
    }
    public static let name = "dual-gradient"
    public static let documentation = "beta <- max(beta_min, beta + step (KLD - target)) (Variational Discriminator Bottleneck)"
    public let parameters: Parameters
    public private(set) var beta: Double

    public init(parameters: Parameters = .init()) {
        self.parameters = parameters
        beta = parameters.initial
    }

    public var target: Double? { parameters.target }

    public func update(kld: Double, step: Int) {
        beta = Swift.max(parameters.min, beta + parameters.step * (kld - parameters.target))
    }

    public func saveState() -> StrategyState { ["beta": [beta]] }
    public func loadState(_ state: StrategyState) throws { beta = try scalar(state, "beta", strategy: Self.name) }
}
