import InkwellEngine
import InkwellNN

/// What the encoder returns for a batch of N images with latent size D: each (N, D).
public struct Encoding {
    /// The sample z = mu + exp(logvar / 2) * eps.
    public let z: Tensor
    /// The posterior means.
    public let mu: Tensor
    /// The posterior log-variances, clamped at `logvarMax` (20).
    public let logvar: Tensor
}

/// The encoder of SPEC.md section 2: `depth` blocks [reflection pad 2, conv 5x5 stride 2 without
/// bias, batch norm, ReLU], flatten, linear to 2 x latent (mu, then log-variance). With
/// `linearEncoder` (not the seed's), a linear map C x H x W -> D of the pixels, zero at the start,
/// is added to mu.
///
/// Names: `convs.{i}.1.weight`, `convs.{i}.2.{weight,bias,running_mean,running_var}`,
/// `map.{weight,bias}`, and with the linear path `skip.{weight,bias}`.
public final class Encoder: Module {
    public let convs: Sequential
    public let map: Linear
    /// Latent size D.
    public let latent: Int
    /// The log-variance is clamped at this maximum before use (20).
    public let logvarMax: Float
    /// The linear path from the pixels to mu (`ModelWidths.linearEncoder`), or nil.
    public let skip: Linear?

    /// - Parameters: widths' encoder channels, feature map and latent.
    public init(widths: ModelWidths, logvarMax: Float = 20, using generator: inout RandomGenerator) {
        let channels = widths.encoder
        convs = Sequential((0..<(channels.count - 1)).map { i in
            Sequential(ReflectionPad2d(2), Conv2d(channels[i], channels[i + 1], kernelSize: 5, stride: 2, bias: false, using: &generator),
                       BatchNorm2d(channels[i + 1]), ReLU())
        })
        map = Linear(channels.last! * widths.featureMap[0] * widths.featureMap[1], 2 * widths.latent, using: &generator)
        latent = widths.latent
        self.logvarMax = logvarMax
        let frame = widths.frameSize
        skip = widths.linearEncoder ? Linear(zeros: widths.channels * frame[0] * frame[1], widths.latent) : nil
    }

    /// The posterior (mu, clamped logvar) of images x (N, C, H, W): each (N, D). Batch norm follows
    /// the module's mode (training: batch statistics, running statistics updated).
    public func posterior(_ x: Tensor) -> (mu: Tensor, logvar: Tensor) {
        let h = map(convs(x).flattened(from: 1))
        let mu = h.narrowed(axis: 1, start: 0, length: latent)
        return (skip.map { mu + $0(x.flattened(from: 1)) } ?? mu,
                h.narrowed(axis: 1, start: latent, length: latent).clamped(max: logvarMax))
    }

    /// Encodes x (N, C, H, W) and samples z with the standard normal draws `eps` (N, D).
    public func callAsFunction(_ x: Tensor, eps: Tensor) -> Encoding {
        let (mu, logvar) = posterior(x)
        return Encoding(z: reparameterize(mu: mu, logvar: logvar, eps: eps, logvarMax: logvarMax), mu: mu, logvar: logvar)
    }
}
