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
    gaussianKLDTerms(mean: mean, logVariance: logVariance, variance: variance).mean()
}

/// -0.5 * (1 + log variance - mean^2 - variance), element by element.
func gaussianKLDTerms(mean: Tensor, logVariance: Tensor, variance: Tensor) -> Tensor {
    ((logVariance + 1) - mean.squared() - variance) * -0.5
}

/// The textbook per-sample KLD from each sample's posterior (mu, logvar), (N, D), averaged over
/// every element (of the global batch, when one spans several processes).
public func kldPerSample(mu: Tensor, logvar: Tensor) -> Tensor {
    guard mu.shape == logvar.shape else { shapeMismatch("kld_per_sample", mu.shape, logvar.shape) }
    return gaussianKLDTerms(mean: mu, logVariance: logvar, variance: logvar.exp()).meanOverGlobalBatch()
}

/// The batch KLD: the per-dimension mean and unbiased variance (clamped at 1e-12) of the sampled
/// z (N, D) over the batch, scored against N(0, 1) and averaged over dimensions.
public func kldBatch(_ z: Tensor) -> Tensor {
    let (mean, variance) = batchStatistics(z)
    return kldOfStatistics(mean: mean, variance: variance)
}

/// Per-dimension mean and unbiased variance of (N, D) samples over the batch axis (the global
/// batch's, when one spans several processes: `globalBatchStatistics`).
public func batchStatistics(_ z: Tensor) -> (mean: Tensor, variance: Tensor) {
    if let group = GlobalBatch.group { return globalBatchStatistics(z, over: group) }
    guard z.rank == 2, z.shape[0] > 1 else { badShape("batch statistics", z.shape, expected: "(N, D) with N > 1") }
    return (z.mean(axis: 0), z.variance(axis: 0))
}

/// Per-dimension mean and unbiased variance of the global batch whose local rows are z (n, D):
/// sums, then squared deviations from the global mean, summed over `group`. The backward gives
/// this process's rows their exact gradient (g_mean / N + g_var * 2 (z - mean) / (N - 1)), which
/// needs no communication: the statistics' consumers are the same on every process.
func globalBatchStatistics(_ z: Tensor, over group: BatchReduction) -> (mean: Tensor, variance: Tensor) {
    guard z.rank == 2 else { badShape("batch statistics", z.shape, expected: "(N, D)") }
    let (n, d) = (z.shape[0], z.shape[1])
    let x = z.pointer
    var sums = [Double](repeating: 0, count: d + 1)
    for i in 0..<n { for j in 0..<d { sums[j] += Double(x[i * d + j]) } }
    sums[d] = Double(n)
    sums = GlobalBatch.sum(sums, over: group)
    let total = sums[d]
    guard total > 1 else { badShape("batch statistics", z.shape, expected: "a global batch of more than one sample") }
    let means = (0..<d).map { sums[$0] / total }
    var squares = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { let e = Double(x[i * d + j]) - means[j]; squares[j] += e * e } }
    squares = GlobalBatch.sum(squares, over: group)
    let meanFloat = means.map(Float.init)
    let mean = Tensor(shape: [d], values: meanFloat).recorded("global_batch_mean", [z], saving: []) { g, _ in
        let gx = Tensor.empty([n, d])
        for i in 0..<n { for j in 0..<d { gx.pointer[i * d + j] = g.pointer[j] / Float(total) } }
        return [gx]
    }
    let variance = Tensor(shape: [d], values: squares.map { Float($0 / (total - 1)) }).recorded("global_batch_variance", [z]) { g, _ in
        let gx = Tensor.empty([n, d])
        let divisor = Float(total - 1)
        for i in 0..<n { for j in 0..<d { gx.pointer[i * d + j] = g.pointer[j] * 2 * (z.pointer[i * d + j] - meanFloat[j]) / divisor } }
        return [gx]
    }
    return (mean, variance)
}

/// The KLD of per-dimension statistics against N(0, 1): the variance is clamped at 1e-12 before
/// its log.
public func kldOfStatistics(mean: Tensor, variance: Tensor) -> Tensor {
    let clamped = variance.clamped(min: 1e-12)
    return gaussianKLD(mean: mean, logVariance: clamped.log(), variance: clamped)
}
