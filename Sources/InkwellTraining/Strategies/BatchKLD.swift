import InkwellEngine

/// The seed's batch KLD: per latent dimension, the mean and unbiased variance (clamped at 1e-12)
/// of the sampled z over the batch, KLD_d = -0.5 (1 + log var_d - mean_d^2 - var_d), averaged over
/// dimensions. Asks the distribution of samples to be N(0, I). Stateless; needs N >= 2.
public final class BatchKLD: KLDStrategy {
    public struct Parameters: StrategyParameters { public init() {} }
    public static let name = "batch"
    public static let documentation = "KLD of the batch's latent samples, per dimension, against N(0, I) (the seed's proposal)"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func kld(z: Tensor, mu: Tensor, logvar: Tensor, update: Bool) -> Tensor {
        kldBatch(z)
    }
}
