import InkwellEngine

/// y = x W^T + b over (N, inFeatures) inputs, giving (N, outFeatures).
///
/// - weight: (outFeatures, inFeatures), kaiming-uniform (a = sqrt(5)).
/// - bias: (outFeatures), uniform(+-1/sqrt(inFeatures)); present by default.
/// - `generator`: where the initial values come from (weight first, then bias).
public final class Linear: Module, UnaryLayer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout RandomGenerator) {
        weight = Initialization.kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures, using: &generator)
        self.bias = bias ? Initialization.bias(outFeatures, fanIn: inFeatures, using: &generator) : nil
    }

    /// A layer whose weight and bias start at zero (it adds nothing until it is trained); draws
    /// nothing from a generator.
    public init(zeros inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Initialization.constant([outFeatures, inFeatures], 0)
        self.bias = bias ? Initialization.constant([outFeatures], 0) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, weight: weight, bias: bias)
    }
}
