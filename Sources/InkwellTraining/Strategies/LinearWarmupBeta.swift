/// Linear warm-up: beta goes from `start` (0) to `end` (1) over `steps` (10000) training steps,
/// then stays at `end`. beta after step t = start + (end - start) * min(t / steps, 1).
/// State: `step` (steps seen).
public final class LinearWarmupBeta: BetaStrategy {
    public struct Parameters: StrategyParameters {
        public var start: Double = 0
        public var end: Double = 1
        public var steps: Double = 10000
        public init() {}
    }
    public static let name = "linear-warmup"
    public static let documentation = "beta rises linearly from a start value to an end value over a number of steps"
    public let parameters: Parameters
    private var stepsSeen = 0

    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public var beta: Double {
        let fraction = parameters.steps > 0 ? Swift.min(Double(stepsSeen) / parameters.steps, 1) : 1
        return parameters.start + (parameters.end - parameters.start) * fraction
    }

    public func update(kld: Double, step: Int) { stepsSeen = step }

    public func saveState() -> StrategyState { ["step": [Double(stepsSeen)]] }
    public func loadState(_ state: StrategyState) throws { stepsSeen = Int(try scalar(state, "step", strategy: Self.name)) }
}
