import InkwellEngine

/// Pads the last two axes of (N, C, H, W) inputs by reflection, `padding` on every side:
/// (N, C, H + 2p, W + 2p).
public final class ReflectionPad2d: Module, UnaryLayer {
    public let padding: Padding2D

    public init(_ padding: Int) { self.padding = Padding2D(padding) }
    public init(_ padding: Padding2D) { self.padding = padding }

    public func callAsFunction(_ x: Tensor) -> Tensor { reflectionPad2d(x, padding) }
}
