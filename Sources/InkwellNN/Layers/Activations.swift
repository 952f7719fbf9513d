import InkwellEngine

/// max(x, 0), elementwise; any shape.
public final class ReLU: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

/// x for x > 0, `negativeSlope` * x otherwise (default 0.01); any shape.
public final class LeakyReLU: Module, UnaryLayer {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.leakyRelu(slope: negativeSlope) }
}

/// tanh, elementwise; any shape.
public final class Tanh: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.tanh() }
}

/// 1 / (1 + exp(-x)), elementwise; any shape.
public final class Sigmoid: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.sigmoid() }
}
