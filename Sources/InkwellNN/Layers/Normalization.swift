import InkwellEngine

/// Batch normalisation of (N, C, H, W) inputs per channel.
///
/// Training mode normalises by the batch statistics and updates the running ones
/// (`running_mean`, `running_var`, momentum 0.1 by default, unbiased variance); evaluation mode
/// normalises by the running statistics. Parameters `weight` (ones) and `bias` (zeros).
public final class BatchNorm2d: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor
    public let running_mean: Tensor
    public let running_var: Tensor
    public let eps: Float
    public let momentum: Float
    /// How many training-mode batches updated the running statistics (PyTorch's
    /// `num_batches_tracked`).
    public private(set) var numBatchesTracked = 0

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = Initialization.constant([channels], 1)
        bias = Initialization.constant([channels], 0)
        running_mean = Tensor(zeros: [channels])
        running_var = Tensor(repeating: 1, shape: [channels])
        self.eps = eps
        self.momentum = momentum
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if training { numBatchesTracked += 1 }
        return batchNorm2d(x, weight: weight, bias: bias,
                           running: RunningStatistics(mean: running_mean, variance: running_var, momentum: momentum),
                           training: training, eps: eps)
    }

    public override func ownCounters() -> [(String, Int)] { [("num_batches_tracked", numBatchesTracked)] }
    public override func setCounter(_ name: String, _ value: Int) {
        if name == "num_batches_tracked" { numBatchesTracked = value }
    }
}

/// Instance normalisation of (N, C, H, W) inputs: each image's channel to zero mean, unit variance
/// (no affine parameters, no running statistics: PyTorch's InstanceNorm2d defaults).
///
/// Followed by a `LeakyReLU` in a `Sequential`, both run as one op (`instanceNorm2dLeakyRelu`),
/// which keeps half the values for the backward.
public final class InstanceNorm2d: Module, FusibleLayer {
    public let eps: Float

    public init(eps: Float = 1e-5) { self.eps = eps }

    public func callAsFunction(_ x: Tensor) -> Tensor { instanceNorm2d(x, eps: eps) }

    public func fused(with next: any UnaryLayer, _ x: Tensor) -> Tensor? {
        guard let activation = next as? LeakyReLU, activation.negativeSlope > 0 else { return nil }
        return instanceNorm2dLeakyRelu(x, eps: eps, slope: activation.negativeSlope)
    }
}
