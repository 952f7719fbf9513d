import Foundation

/// The widths of the VAE-GAN (SPEC.md section 2). Every width is configurable; `reference` is the
/// published model (138,420,484 parameters) and `narrow` a small model of the same shape for
/// demos and tests.
///
/// Depth follows the channel lists: the encoder has `encoder.count - 1` stride-2 blocks, the
/// decoder `decoder.count - 1` transposed-conv blocks (the same number), the discriminator
/// `discriminator.count - 1` conv blocks (the first stride 1, the rest stride 2).
/// The frame is the feature map grown by f(x) = 2x - 1 once per block: 9 x 16 -> 65 x 121 at
/// depth 3.
public struct ModelWidths: Codable, Equatable, Sendable {
    /// Latent size D (reference 1024).
    public var latent: Int
    /// Encoder channels, image channels first (reference [3, 64, 128, 256]).
    public var encoder: [Int]
    /// Decoder channels, the mapped feature grid's first (reference [256, 256, 128, 64]); the last
    /// conv maps the final width back to the image channels.
    public var decoder: [Int]
    /// Discriminator channels, image channels first (reference [3, 32, 128, 256, 256]).
    public var discriminator: [Int]
    /// Discriminator hidden units between its two linear layers (reference 512).
    public var discriminatorHidden: Int
    /// The smallest feature grid (height, width), reference (9, 16).
    public var featureMap: [Int]
    /// A departure from the seed (docs/TRAINING.md, "A linear path to the pixels"): the decoder
    /// also maps the latent linearly to every pixel (`vae.decoder.skip`, D -> C x H x W, zero at
    /// the start) and adds that before its tanh. Off (false) in every preset: the seed's model.
    public var linearSkip: Bool
    /// A departure from the seed (docs/TRAINING.md, "A linear path from the pixels"): the encoder
    /// also maps the pixels linearly to the posterior mean (`vae.encoder.skip`, C x H x W -> D,
    /// zero at the start) and adds that to the mean its convolutions give. With `linearSkip`, the
    /// two make a linear autoencoder beside the convolutional one, which `linear_init: pca` starts
    /// at a PCA of the training frames. Off (false) in every preset.
    public var linearEncoder: Bool

    enum CodingKeys: String, CodingKey {
        case latent, encoder, decoder, discriminator
        case discriminatorHidden = "discriminator_hidden"
        case featureMap = "feature_map"
        case linearSkip = "linear_skip"
        case linearEncoder = "linear_encoder"
    }

    public init(latent: Int, encoder: [Int], decoder: [Int], discriminator: [Int], discriminatorHidden: Int, featureMap: [Int],
                linearSkip: Bool = false, linearEncoder: Bool = false) {
        self.latent = latent
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.discriminatorHidden = discriminatorHidden
        self.featureMap = featureMap
        self.linearSkip = linearSkip
        self.linearEncoder = linearEncoder
    }

    /// `linear_skip` and `linear_encoder` may be absent (false): widths written before they
    /// existed, and the seed's.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(latent: try c.decode(Int.self, forKey: .latent), encoder: try c.decode([Int].self, forKey: .encoder),
                  decoder: try c.decode([Int].self, forKey: .decoder), discriminator: try c.decode([Int].self, forKey: .discriminator),
                  discriminatorHidden: try c.decode(Int.self, forKey: .discriminatorHidden),
                  featureMap: try c.decode([Int].self, forKey: .featureMap),
                  linearSkip: try c.decodeIfPresent(Bool.self, forKey: .linearSkip) ?? false,
                  linearEncoder: try c.decodeIfPresent(Bool.self, forKey: .linearEncoder) ?? false)
    }

    /// Writes `linear_skip` and `linear_encoder` only when they are on, so the seed's widths read
    /// as they always have.
    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(latent, forKey: .latent)
        try c.encode(self.encoder, forKey: .encoder)
        try c.encode(decoder, forKey: .decoder)
        try c.encode(discriminator, forKey: .discriminator)
        try c.encode(discriminatorHidden, forKey: .discriminatorHidden)
        try c.encode(featureMap, forKey: .featureMap)
        if linearSkip { try c.encode(true, forKey: .linearSkip) }
        if linearEncoder { try c.encode(true, forKey: .linearEncoder) }
    }

    /// The published widths: latent 1024, 3-64-128-256, 256-256-128-64, 3-32-128-256-256, 512,
    /// 9 x 16 (frames 65 x 121).
    public static let reference = ModelWidths(
        latent: 1024, encoder: [3, 64, 128, 256], decoder: [256, 256, 128, 64],
        discriminator: [3, 32, 128, 256, 256], discriminatorHidden: 512, featureMap: [9, 16])

    /// A narrow model of the reference's shape (the golden train step's widths): latent 16,
    /// 3-8-16-32, 32-32-16-8, 3-8-16-32-32, hidden 32, frames 65 x 121.
    public static let narrow = ModelWidths(
        latent: 16, encoder: [3, 8, 16, 32], decoder: [32, 32, 16, 8],
        discriminator: [3, 8, 16, 32, 32], discriminatorHidden: 32, featureMap: [9, 16])

    /// A model of the reference's shape at a quarter of its widths, for training on a 2-core
    /// CPU in under an hour (pipelines/splatoon-cpu.yaml): latent 128, 3-16-32-64, 64-64-32-16,
    /// 3-8-32-64-64, hidden 128, frames 65 x 121.
    public static let cpu = ModelWidths(
        latent: 128, encoder: [3, 16, 32, 64], decoder: [64, 64, 32, 16],
        discriminator: [3, 8, 32, 64, 64], discriminatorHidden: 128, featureMap: [9, 16])

    /// The presets by name, in the order help text lists them.
    public static let presets: [(name: String, widths: ModelWidths)] = [("reference", .reference), ("cpu", .cpu), ("narrow", .narrow)]
    public static var presetNames: [String] { presets.map(\.name) }

    /// A preset by name: "reference", "cpu" or "narrow".
    public static func preset(_ name: String) throws -> ModelWidths {
        guard let found = presets.first(where: { $0.name == name }) else {
            throw TrainingError.configuration("unknown model preset '\(name)' (known: \(presetNames.joined(separator: ", ")))")
        }
        return found.widths
    }

    /// Encoder (and decoder) depth: the number of stride-2 blocks.
    public var depth: Int { encoder.count - 1 }
    /// Image channels (encoder[0]).
    public var channels: Int { encoder.first ?? 0 }

    /// f(x) = 2x - 1 applied `depth` times to the feature map: the frame (height, width).
    public var frameSize: [Int] { featureMap.map { Self.grow($0, times: depth) } }

    /// x -> 2x - 1, `times` times.
    public static func grow(_ x: Int, times: Int) -> Int { (0..<times).reduce(x) { v, _ in 2 * v - 1 } }

    /// Checks the widths describe a buildable model; throws a one-line reason otherwise.
    public func validate() throws {
        func bad(_ reason: String) -> TrainingError { .configuration("model widths: \(reason)") }
        guard latent > 0 else { throw bad("latent must be positive, got \(latent)") }
        guard encoder.count >= 2, encoder.allSatisfy({ $0 > 0 }) else { throw bad("encoder needs at least two positive channel counts, got \(encoder)") }
        guard decoder.count == encoder.count, decoder.allSatisfy({ $0 > 0 }) else {
            throw bad("decoder needs \(encoder.count) positive channel counts (one block per encoder block), got \(decoder)")
        }
        guard discriminator.count >= 2, discriminator.allSatisfy({ $0 > 0 }) else { throw bad("discriminator needs at least two positive channel counts, got \(discriminator)") }
        guard discriminator[0] == channels else { throw bad("discriminator input channels \(discriminator[0]) differ from the image channels \(channels)") }
        guard discriminatorHidden > 0 else { throw bad("discriminator_hidden must be positive, got \(discriminatorHidden)") }
        guard featureMap.count == 2, featureMap.allSatisfy({ $0 >= 2 }) else { throw bad("feature_map must be [height, width] of at least 2, got \(featureMap)") }
    }

    /// Checks that `frame` (height, width) follows the 2x - 1 rule for this depth: it must be this
    /// model's `frameSize`. Throws a one-line error naming the sizes that would work.
    public func checkFrame(height: Int, width: Int) throws {
        guard [height, width] != frameSize else { return }
        // What feature grid would the frame need? x = (s + 1) / 2 per block, exactly.
        let hint: String
        if let h = Self.shrink(height, times: depth), let w = Self.shrink(width, times: depth), h >= 2, w >= 2 {
            hint = "it fits feature_map [\(h), \(w)] at depth \(depth); set feature_map to that"
        } else {
            hint = "at depth \(depth) each side must be (x - 1) * 2^\(depth) + 1 (e.g. 65 x 121 from 9 x 16)"
        }
        throw TrainingError.configuration(
            "frame \(width) x \(height) (width x height) does not follow the 2x - 1 rule for feature map \(featureMap[1]) x \(featureMap[0]): expected \(frameSize[1]) x \(frameSize[0]); \(hint)")
    }

    /// The discriminator's feature map (height, width): the frame after one stride-1 block and
    /// `discriminator.count - 2` stride-2 blocks (pad 2, kernel 5).
    public var discriminatorFeatureMap: [Int] {
        frameSize.map { s in (0..<(discriminator.count - 2)).reduce(s) { v, _ in (v - 1) / 2 + 1 } }
    }
}
