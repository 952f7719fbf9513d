/// Cyclical annealing (Fu et al. 2019): training is cut into cycles of `period` steps (10000);
/// within each, beta rises linearly from `min` (0) to `max` (1) over the first `ramp` fraction
/// (0.5) of the cycle and then holds at `max`. State: `step`.
public final class CyclicalBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var min: Double = 0
        public var max: Double = 1
        public var period: Double = 10000
        public var ramp: Double = 0.5
        public init() {}
    }
    public static let name = "cyclical"
    public static let documentation = "cyclical annealing: beta ramps up and restarts every period"
    public let parameters: Parameters
    private var stepsSeen = 0

    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public var beta: Double {
        let p = parameters
        guard p.period > 0, p.ramp > 0 else { return p.max }
        let phase = Double(stepsSeen).truncatingRemainder(dividingBy: p.period) / p.period
        return p.min + (p.max - p.min) * Swift.min(phase / p.ramp, 1)
    }

    public func update(kld: Double, step: Int) { stepsSeen = step }

    public func saveState() -> StrategyState { ["step": [Double(stepsSeen)]] }
    public func loadState(_ state: StrategyState) throws { stepsSeen = Int(try scalar(state, "step", strategy: Self.name)) }
}
