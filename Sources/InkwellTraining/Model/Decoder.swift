import InkwellEngine
import InkwellNN

/// The decoder (generator) of SPEC.md section 2: linear latent -> C0 x h x w, `depth` blocks
/// [transposed conv 5x5 stride 2 padding 2 without bias, instance norm, LeakyReLU 0.01], then
/// reflection pad 2, conv 5x5 to the image channels with bias, tanh. With `linearSkip` (not the
/// seed's), a linear map latent -> C x H x W, zero at the start, is added before the tanh.
///
/// Names: `map.{weight,bias}`, `convs.{i}.0.weight` (i < depth), `convs.{depth + 1}.{weight,bias}`,
/// and with the skip `skip.{weight,bias}`.
public final class Decoder: Module {
    public let map: Linear
    public let convs: Sequential
    /// The feature grid (height, width) the latent maps to.
    public let featureMap: [Int]
    public let mapChannels: Int
    /// The linear path from the latent to the pixels (`ModelWidths.linearSkip`), or nil.
    public let skip: Linear?

    public init(widths: ModelWidths, using generator: inout RandomGenerator) {
        let c = widths.decoder
        featureMap = widths.featureMap
        mapChannels = c[0]
        map = Linear(widths.latent, c[0] * featureMap[0] * featureMap[1], using: &generator)
        var layers: [any UnaryLayer] = (0..<(c.count - 1)).map { i in
            Sequential(ConvTranspose2d(c[i], c[i + 1], kernelSize: 5, stride: 2, padding: 2, bias: false, using: &generator),
                       InstanceNorm2d(), LeakyReLU(negativeSlope: 0.01))
        }
        layers.append(ReflectionPad2d(2))
        layers.append(Conv2d(c.last!, widths.channels, kernelSize: 5, using: &generator))
        convs = Sequential(layers)
        let frame = widths.frameSize
        skip = widths.linearSkip ? Linear(zeros: widths.latent, widths.channels * frame[0] * frame[1]) : nil
    }

    /// Decodes z (N, D) into images (N, C, H, W) in [-1, 1].
    public func callAsFunction(_ z: Tensor) -> Tensor {
        let h = map(z).reshaped([z.shape[0], mapChannels, featureMap[0], featureMap[1]])
        let drawn = convs(h)
        guard let skip else { return drawn.tanh() }
        return (drawn + skip(z).reshaped(drawn.shape)).tanh()
    }
}
