// The VAE's sampling and KL-divergence terms, composed from primitives (no backward of their own).

/// z = mu + exp(clamp(logvar, max: logvarMax) / 2) * eps, the reparameterisation trick.
/// mu, logvar, eps: (N, D).
public func reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor, logvarMax: Float = 20) -> Tensor {
    guard mu.shape == logvar.shape else { shapeMismatch("reparameterize", mu.shape, logvar.shape, "mu vs logvar") }
    guard mu.shape == eps.shape else { shapeMismatch("reparameterize", mu.shape, eps.shape, "mu vs eps") }
    return mu + (logvar.clamped(max: logvarMax) * 0.5).exp() * eps
}

/// KL(N(mean, variance) || N(0, 1)) per element, averaged:
/// mean(-0.5 * (1 + log variance - mean^2 - variance)).
public func gaussianKLD(mean: Tensor, logVariance: Tensor, variance: Tensor) -> Tensor {
    (((logVariance + 1) - mean.squared() - variance) * -0.5).mean()
}

/// The textbook per-sample KLD from each sample's posterior (mu, logvar), (N, D), averaged over
/// every element.
public func kldPerSample(mu: Tensor, logvar: Tensor) -> Tensor {
    guard mu.shape == logvar.shape else { shapeMismatch("kld_per_sample", mu.shape, logvar.shape) }
    return gaussianKLD(mean: mu, logVariance: logvar, variance: logvar.exp())
}

/// The batch KLD: the per-dimension mean and unbiased variance (clamped at 1e-12) of the sampled
/// z (N, D) over the batch, scored against N(0, 1) and averaged over dimensions.
public func kldBatch(_ z: Tensor) -> Tensor {
    let (mean, variance) = batchStatistics(z)
    return kldOfStatistics(mean: mean, variance: variance)
}

/// Per-dimension mean and unbiased variance of (N, D) samples over the batch axis.
public func batchStatistics(_ z: Tensor) -> (mean: Tensor, variance: Tensor) {
    guard z.rank == 2, z.shape[0] > 1 else { badShape("batch statistics", z.shape, expected: "(N, D) with N > 1") }
    return (z.mean(axis: 0), z.variance(axis: 0))
}

/// The KLD of per-dimension statistics against N(0, 1): the variance is clamped at 1e-12 before
/// its log.
public func kldOfStatistics(mean: Tensor, variance: Tensor) -> Tensor {
    let clamped = variance.clamped(min: 1e-12)
    return gaussianKLD(mean: mean, logVariance: clamped.log(), variance: clamped)
}
