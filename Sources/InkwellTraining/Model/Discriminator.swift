import InkwellEngine
import InkwellNN

/// The discriminator of SPEC.md section 2: blocks [reflection pad 2, conv 5x5 with bias], the first
/// stride 1 and the rest stride 2, with no activation between them (as published); the last
/// conv's output is the feature map used for feature matching; then ReLU, flatten,
/// linear -> hidden, ReLU, linear -> 1, sigmoid.
///
/// Names: `convs.{i}.1.{weight,bias}`, `fc.0.{weight,bias}`, `fc.2.{weight,bias}`.
public final class Discriminator: Module {
    public let convs: Sequential
    public let fc: Sequential

    public init(widths: ModelWidths, using generator: inout RandomGenerator) {
        let c = widths.discriminator
        convs = Sequential((0..<(c.count - 1)).map { i in
            Sequential(ReflectionPad2d(2), Conv2d(c[i], c[i + 1], kernelSize: 5, stride: i == 0 ? 1 : 2, using: &generator))
        })
        let grid = widths.discriminatorFeatureMap
        fc = Sequential(Linear(c.last! * grid[0] * grid[1], widths.discriminatorHidden, using: &generator), ReLU(),
                        Linear(widths.discriminatorHidden, 1, using: &generator), Sigmoid())
    }

    /// The probability that each image of x (N, C, H, W) is real, (N, 1), and the feature map
    /// (N, C_last, h, w) before any activation.
    /// The feature map only (N, C_last, h, w), skipping the linear head.
    public func features(_ x: Tensor) -> Tensor { convs(x) }

    public func callAsFunction(_ x: Tensor) -> (probability: Tensor, features: Tensor) {
        let features = convs(x)
        return (fc(features.relu().flattened(from: 1)), features)
    }
}
