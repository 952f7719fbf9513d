import Foundation
import InkwellEngine
import InkwellNN

/// The VAE half: `encoder` and `decoder` (names `vae.encoder.*`, `vae.decoder.*`).
public final class VAE: Module {
    public let encoder: Encoder
    public let decoder: Decoder

    public init(widths: ModelWidths) {
        encoder = Encoder(widths: widths)
        decoder = Decoder(widths: widths)
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

    /// Builds a freshly initialised model (PyTorch's default initialisers drawing from
    /// `Initialization.generator`; seed it with `Initialization.seed(_:)` first for a reproducible
    /// model). Throws when the widths are not buildable.
    public init(widths: ModelWidths) throws {
        try widths.validate()
        self.widths = widths
        vae = VAE(widths: widths)
        discriminator = Discriminator(widths: widths)
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
