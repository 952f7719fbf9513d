import Foundation
import InkwellEngine
import InkwellNN

/// The VAE half: `encoder` and `decoder` (names `vae.encoder.*`, `vae.decoder.*`).
public final class VAE: Module {
    public let encoder: Encoder
    public let decoder: Decoder

    /// Encoder then decoder, each drawing its initial values from `generator` in turn.
    public init(widths: ModelWidths, using generator: inout RandomGenerator) {
        encoder = Encoder(widths: widths, using: &generator)
        decoder = Decoder(widths: widths, using: &generator)
    }
}

/// The whole VAE-GAN of SPEC.md section 2, with the reference PyTorch module tree's names
/// (`vae.encoder.convs.0.1.weight`, ..., `discriminator.fc.2.bias`), so its state moves to and
/// from the seed's model through safetensors.
public final class VAEGAN: Module {
    public let vae: VAE
    public let discriminator: Discriminator
    /// The widths it was built with.
    public let widths: ModelWidths

    /// Builds a freshly initialised model: PyTorch's default initialisers, drawing from one
    /// generator seeded with `seed` (0 by default), in the order encoder, decoder, discriminator.
    /// The same widths and seed give the same model. Throws when the widths are not buildable.
    public convenience init(widths: ModelWidths, seed: UInt64 = 0) throws {
        var generator = RandomGenerator(seed: seed)
        try self.init(widths: widths, using: &generator)
    }

    /// Builds a freshly initialised model drawing its initial values from `generator`.
    public init(widths: ModelWidths, using generator: inout RandomGenerator) throws {
        try widths.validate()
        self.widths = widths
        vae = VAE(widths: widths, using: &generator)
        discriminator = Discriminator(widths: widths, using: &generator)
    }

    public var encoder: Encoder { vae.encoder }
    public var decoder: Decoder { vae.decoder }

    /// Encodes images x (N, C, H, W) to (mu, logvar) and decodes mu: the deterministic
    /// reconstruction (N, C, H, W). Runs without recording gradients, in the current mode (call
    /// `eval()` first for inference).
    public func reconstruct(_ x: Tensor) -> Tensor {
        withoutGrad { decoder(encoder.posterior(x).mu) }
    }

    /// Decodes latents z (N, D) into images (N, C, H, W), without gradients.
    public func decode(_ z: Tensor) -> Tensor {
        withoutGrad { decoder(z) }
    }
}
