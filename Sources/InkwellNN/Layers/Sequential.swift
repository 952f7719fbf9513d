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

    /// Applies the layers in order. A layer that can run fused with the next one
    /// (`FusibleLayer`) does so, with the same values and less memory kept for the backward.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var value = x
        var index = 0
        while index < layers.count {
            if index + 1 < layers.count, let first = layers[index] as? any FusibleLayer,
               let fused = first.fused(with: layers[index + 1], value) {
                value = fused
                index += 2
            } else {
                value = layers[index](value)
                index += 1
            }
        }
        return value
    }
}

/// A layer that, followed by certain layers, runs both as one op.
public protocol FusibleLayer: UnaryLayer {
    /// `next(self(x))` computed as one op, or nil where `next` is not a layer it fuses with.
    func fused(with next: any UnaryLayer, _ x: Tensor) -> Tensor?
}

/// (N, d1, d2, ...) -> (N, d1 * d2 * ...).
public final class Flatten: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened(from: 1) }
}
