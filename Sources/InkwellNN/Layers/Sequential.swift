import InkwellEngine

/// Layers applied in order; children are named by index ("0", "1", ...) as in PyTorch.
public final class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) { self.layers = layers }
    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public subscript(index: Int) -> any UnaryLayer { layers[index] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}

/// (N, d1, d2, ...) -> (N, d1 * d2 * ...).
public final class Flatten: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened(from: 1) }
}
