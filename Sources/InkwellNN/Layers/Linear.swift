import InkwellEngine

/// y = x W^T + b over (N, inFeatures) inputs, giving (N, outFeatures).
///
/// - weight: (outFeatures, inFeatures), kaiming-uniform (a = sqrt(5)).
/// - bias: (outFeatures), uniform(+-1/sqrt(inFeatures)); present by default.
public final class Linear: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Initialization.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures)
        self.bias = bias ? Initialization.bias(outFeatures, fanIn: inFeatures) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, weight: weight, bias: bias)
    }
}
