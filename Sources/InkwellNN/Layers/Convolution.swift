import InkwellEngine

/// 2-D convolution over (N, C, H, W) inputs.
///
/// - weight: (outChannels, inChannels, kernel, kernel), kaiming-uniform (a = sqrt(5)).
/// - bias: (outChannels), uniform(+-1/sqrt(fan_in)); present by default.
/// - `generator`: where the initial values come from (weight first, then bias).
/// - Output: (N, outChannels, (H + 2 padding - kernel) / stride + 1, likewise W).
public final class Conv2d: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                using generator: inout RandomGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Initialization.kaimingUniform([outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn, using: &generator)
        self.bias = bias ? Initialization.bias(outChannels, fanIn: fanIn, using: &generator) : nil
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// 2-D transposed convolution over (N, Cin, H, W) inputs (PyTorch's ConvTranspose2d without
/// output padding).
///
/// - weight: (inChannels, outChannels, kernel, kernel), kaiming-uniform with PyTorch's fan-in for
///   this layout (outChannels * kernel * kernel).
/// - bias: (outChannels); present by default.
/// - `generator`: where the initial values come from (weight first, then bias).
/// - Output: (N, outChannels, (H - 1) stride - 2 padding + kernel, likewise W).
public final class ConvTranspose2d: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                using generator: inout RandomGenerator) {
        let fanIn = outChannels * kernelSize * kernelSize
        weight = Initialization.kaimingUniform([inChannels, outChannels, kernelSize, kernelSize], fanIn: fanIn, using: &generator)
        self.bias = bias ? Initialization.bias(outChannels, fanIn: fanIn, using: &generator) : nil
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
