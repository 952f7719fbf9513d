/// How the weight beta of the KLD term evolves (SPEC.md section 5). Conformers: `ConstantBeta`
/// ("constant"), `DualGradientBeta` ("dual-gradient"), `LinearWarmupBeta` ("linear-warmup"),
/// `CyclicalBeta` ("cyclical"), `PIControllerBeta` ("pi-controller").
///
/// A new strategy is one new type registered with `StrategyRegistry.register(MyBeta.self)`.
public protocol BetaStrategy: TrainingStrategy {

    /// The beta the next step multiplies its KLD by.
    var beta: Double { get }
    /// The KLD the strategy steers towards, when it has one (plotted against the KLD).
    var target: Double? { get }
    /// Sub-step 8: updates beta from this step's KLD. `step` is the number of training steps
    /// done, this one included (1 after the first step).
    func update(kld: Double, step: Int)

    func saveState() -> StrategyState
    func loadState(_ state: StrategyState) throws
}

extension BetaStrategy {
    public var target: Double? { nil }
}

/// Reads a one-value entry of a saved state, with a one-line error when it is malformed.
func scalar(_ state: StrategyState, _ key: String, strategy: String) throws -> Double {
    guard let values = state[key], values.count == 1 else {
        throw TrainingError.checkpoint("\(strategy) beta state: '\(key)' missing or not one value")
    }
    return values[0]
}

/// beta fixed at `value` (default 1).
public final class ConstantBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var value: Double = 1
        public init() {}
    }
    public static let name = "constant"
    public static let documentation = "beta fixed at 'value'"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }
    public var beta: Double { parameters.value }
    public func update(kld: Double, step: Int) {}
    public func saveState() -> StrategyState { [:] }
    public func loadState(_ state: StrategyState) throws {}
}
