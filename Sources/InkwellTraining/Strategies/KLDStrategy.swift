import InkwellEngine

/// How the KL-divergence term of a training step is computed (SPEC.md section 4). Conformers:
/// `PerSampleKLD` ("per-sample"), `BatchKLD` ("batch"), `MovingBatchKLD` ("moving-batch").
///
/// A new strategy is one new type registered with `StrategyRegistry.register(MyKLD.self)`; the
/// trainer finds it by `name` from the configuration, with typed `Parameters`.
public protocol KLDStrategy: TrainingStrategy {

    /// The KLD of one batch, a scalar recorded for autograd.
    /// - Parameters:
    ///   - z: the sampled latents (N, D).
    ///   - mu, logvar: the posterior (N, D), logvar already clamped.
    ///   - update: true in a training step: keep whatever running state the strategy has. False
    ///     (evaluation) leaves the state untouched.
    func kld(z: Tensor, mu: Tensor, logvar: Tensor, update: Bool) -> Tensor

    /// The state to save in a checkpoint (empty for stateless strategies).
    func saveState() -> StrategyState
    /// Restores `saveState()`'s output; throws a one-line reason when it does not fit.
    func loadState(_ state: StrategyState) throws
}

extension KLDStrategy {
    public func saveState() -> StrategyState { [:] }
    public func loadState(_ state: StrategyState) throws {}
}

/// The textbook per-sample KLD: -0.5 * (1 + logvar - mu^2 - exp(logvar)), averaged over every
/// element. Stateless; no parameters.
public final class PerSampleKLD: KLDStrategy {
    public struct Parameters: StrategyParameters { public init() {} }
    public static let name = "per-sample"
    public static let documentation = "textbook KLD of each sample's posterior, -0.5 (1 + logvar - mu^2 - exp(logvar)), averaged"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func kld(z: Tensor, mu: Tensor, logvar: Tensor, update: Bool) -> Tensor {
        kldPerSample(mu: mu, logvar: logvar)
    }
}
