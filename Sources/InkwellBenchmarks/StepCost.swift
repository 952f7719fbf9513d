import InkwellTraining

/// The arithmetic of one training step, for benchmarks: floating-point operations (2 per
/// multiply-add) of the convolutions and linear layers, the dominant work.
public struct StepCost: Sendable {
    /// Forward FLOPs per image of each part.
    public let encoder: Double
    public let decoder: Double
    public let discriminator: Double

    public init(widths: ModelWidths) {
        let frame = widths.frameSize
        // Encoder: stride-2 convs shrink x -> (x + 1) / 2.
        var (h, w) = (frame[0], frame[1])
        var e = 0.0
        for i in 0..<(widths.encoder.count - 1) {
            (h, w) = ((h + 1) / 2, (w + 1) / 2)
            e += 2 * Double(widths.encoder[i] * widths.encoder[i + 1] * 25 * h * w)
        }
        let grid = Double(widths.featureMap[0] * widths.featureMap[1])
        e += 2 * Double(widths.encoder.last!) * grid * Double(2 * widths.latent)
        encoder = e
        // Decoder: the map, transposed convs (each input pixel scatters a 5 x 5 kernel), last conv.
        var g = 2 * Double(widths.latent) * Double(widths.decoder[0]) * grid
        (h, w) = (widths.featureMap[0], widths.featureMap[1])
        for i in 0..<(widths.decoder.count - 1) {
            g += 2 * Double(widths.decoder[i] * widths.decoder[i + 1] * 25 * h * w)
            (h, w) = (2 * h - 1, 2 * w - 1)
        }
        g += 2 * Double(widths.decoder.last! * widths.channels * 25 * frame[0] * frame[1])
        decoder = g
        // Discriminator: stride 1, then stride 2 blocks, then the two linear layers.
        (h, w) = (frame[0], frame[1])
        var d = 0.0
        for i in 0..<(widths.discriminator.count - 1) {
            if i > 0 { (h, w) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1) }
            d += 2 * Double(widths.discriminator[i] * widths.discriminator[i + 1] * 25 * h * w)
        }
        d += 2 * Double(widths.discriminator.last! * h * w * widths.discriminatorHidden) + 2 * Double(widths.discriminatorHidden)
        discriminator = d
    }

    /// FLOPs of one seed-schedule step over `batch` images, counting a backward pass as twice its
    /// forward. Passes: discriminator 7 forward, 6 backward; encoder 4 forward (sub-steps 2, 6, 7
    /// and the pixel pass), 2 backward; decoder 4 forward, 3 backward.
    public func seedStepFLOPs(batch: Int) -> Double {
        Double(batch) * (discriminator * (7 + 2 * 6) + encoder * (4 + 2 * 2) + decoder * (4 + 2 * 3))
    }
}
