import Foundation
import InkwellEngine

/// The published code's final KLD: as `BatchKLD`, but the batch mean and variance are blended with
/// running values, m_t = momentum * m_(t-1) + (1 - momentum) * batch statistic, and the blended
/// values (detached) are kept after a training step.
///
/// Parameters: `momentum` (0.1), `initial_mean` (0), `initial_var` (1). State: `mean`, `var`
/// (D values each, once a step has run).
public final class MovingBatchKLD: KLDStrategy {
    public struct Parameters: StrategyParameters {
        public var momentum: Double = 0.1
        public var initialMean: Double = 0
        public var initialVar: Double = 1
        public init() {}
        enum CodingKeys: String, CodingKey {
            case momentum
            case initialMean = "initial_mean"
            case initialVar = "initial_var"
        }
    }
    public static let name = "moving-batch"
    public static let documentation = "as batch, with mean and variance blended into running values (momentum) across steps"
    public let parameters: Parameters
    /// The running mean and variance (D), or nil before the first step (then the initial
    /// scalars stand in for every dimension).
    public private(set) var runningMean: Tensor?
    public private(set) var runningVariance: Tensor?

    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func kld(z: Tensor, mu: Tensor, logvar: Tensor, update: Bool) -> Tensor {
        let (mean, variance) = blended(z)
        if update {
            runningMean = mean.detached().clone()
            runningVariance = variance.detached().clone()
        }
        return kldOfStatistics(mean: mean, variance: variance)
    }

    /// The blended statistics of z (N, D): each (D), recorded for autograd.
    func blended(_ z: Tensor) -> (Tensor, Tensor) {
        let (batchMean, batchVariance) = batchStatistics(z)
        let m = Float(parameters.momentum)
        let d = z.shape[1]
        let previousMean = runningMean ?? Tensor(repeating: Float(parameters.initialMean), shape: [d])
        let previousVariance = runningVariance ?? Tensor(repeating: Float(parameters.initialVar), shape: [d])
        guard previousMean.shape == [d] else { shapeMismatch("moving-batch KLD", previousMean.shape, [d], "running mean vs latent size") }
        return (previousMean * m + batchMean * (1 - m), previousVariance * m + batchVariance * (1 - m))
    }

    public func saveState() -> StrategyState {
        guard let runningMean, let runningVariance else { return [:] }
        return ["mean": runningMean.values.map(Double.init), "var": runningVariance.values.map(Double.init)]
    }

    public func loadState(_ state: StrategyState) throws {
        guard let mean = state["mean"], let variance = state["var"] else {
            runningMean = nil; runningVariance = nil
            return
        }
        guard mean.count == variance.count, !mean.isEmpty else {
            throw TrainingError.checkpoint("moving-batch KLD state: mean has \(mean.count) values, var \(variance.count)")
        }
        runningMean = Tensor(shape: [mean.count], values: mean.map(Float.init))
        runningVariance = Tensor(shape: [variance.count], values: variance.map(Float.init))
    }
}
