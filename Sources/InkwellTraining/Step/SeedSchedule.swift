import InkwellEngine
import InkwellNN

/// The reference's update sequence (SPEC.md section 3), named "seed". Every sub-update clears
/// every gradient, back-propagates one loss (only as far as the stepped optimizers' parameters
/// need) and steps only the named optimizers:
///
/// 1. D(x) -> BCE(., 1); step discriminator.
/// 2. recon = G(E(x)); D(recon, detached) -> BCE(., 0); step discriminator.
/// 3. D(recon) -> BCE(., 1); step decoder.
/// 4. fake = G(z), z ~ N(0, I); D(fake, detached) -> BCE(., 0); step discriminator.
/// 5. D(fake) -> BCE(., 1); step decoder.
/// 6. recon = G(E(x)); MSE(features of D(recon), features of D(x)); step encoder and decoder.
///    (The context's reconstruction loss may add to that; the seed's is feature matching alone.)
/// 7. z = E(x); KLD by the strategy; loss = beta * KLD; step encoder.
/// 8. beta <- the beta strategy's update from this step's KLD.
/// Then the pixel error MSE(G(E(x)), x) without gradients. In data-parallel training the same
/// code runs on every rank over its rows of the global batch (docs/DISTRIBUTED.md). The encoder runs with batch norm in
/// training mode at every call (its running statistics move at each).
///
/// Parameter: `adversarial` (default 1, the seed's) weights the decoder's losses of sub-updates 3
/// and 5; the logged `gen_recon` and `gen_fake` stay unweighted (docs/TRAINING.md, "The
/// discriminator's early win, and its mending").
public final class SeedSchedule: TrainingSchedule {
    public struct Parameters: StrategyParameters {
        /// Weight of the decoder's adversarial losses (sub-updates 3 and 5); 1 is the seed's.
        public var adversarial: Double = 1
        public init() {}
        public var problem: String? {
            adversarial >= 0 && adversarial.isFinite ? nil : "adversarial must be a finite weight of at least 0, got \(adversarial)"
        }
    }
    public static let name = "seed"
    public static let documentation = "the reference's eight sub-updates per step (SPEC.md section 3)"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    // About 80 lines on purpose: the update sequence reads top to bottom in SPEC.md section 3's order.
    public func step(_ context: StepContext, images x: Tensor, noise: NoiseSource) throws -> StepResult {
        let model = context.model
        let (encoder, decoder, discriminator) = (model.encoder, model.decoder, model.discriminator)
        let optimizers = context.optimizers
        let latentShape = [x.shape[0], encoder.latent]
        model.train()
        let disParams = optimizers.discriminator.parameters
        let decParams = optimizers.decoder.parameters
        let encParams = optimizers.encoder.parameters

        /// Sub-update `number`: clears every gradient, back-propagates `loss` to `targets`, steps
        /// `optimizers`.
        func update(_ number: Int, _ loss: Tensor, _ targets: [Tensor], _ stepped: [Adam]) {
            model.zeroGrad()
            context.backward(loss, to: targets)
            context.gradientObserver?(number, targets)
            for o in stepped { o.step() }
            // Applied gradients are dropped now, not at the next clearing: the next sub-update's
            // forward pass then runs without them in memory.
            for p in targets { p.zeroGrad() }
        }
        /// A decoder's adversarial loss, weighted (x * 1 is exact, so the seed's weight changes no bit).
        func adversarial(_ loss: Tensor) -> Tensor { loss * Float(parameters.adversarial) }
        var losses: [String: Float] = [:]

        // 1. Real images.
        let real = binaryCrossEntropy(discriminator(x).probability, target: 1)
        losses["disc_real"] = real.item
        update(1, real, disParams, [optimizers.discriminator])

        // 2-3. Reconstructions.
        let recon = decoder(encoder(x, eps: try noise.normal(.gan, shape: latentShape)).z)
        let reconFake = binaryCrossEntropy(discriminator(recon.detached()).probability, target: 0)
        losses["disc_recon"] = reconFake.item
        update(2, reconFake, disParams, [optimizers.discriminator])
        let reconReal = binaryCrossEntropy(discriminator(recon).probability, target: 1)
        losses["gen_recon"] = reconReal.item
        update(3, adversarial(reconReal), decParams, [optimizers.decoder])

        // 4-5. Fakes from the prior.
        let fake = decoder(try noise.normal(.fakeLatent, shape: latentShape))
        let fakeFake = binaryCrossEntropy(discriminator(fake.detached()).probability, target: 0)
        losses["disc_fake"] = fakeFake.item
        update(4, fakeFake, disParams, [optimizers.discriminator])
        let fakeReal = binaryCrossEntropy(discriminator(fake).probability, target: 1)
        losses["gen_fake"] = fakeReal.item
        update(5, adversarial(fakeReal), decParams, [optimizers.decoder])

        // 6. Feature matching.
        // The real images' features are constants for the encoder and decoder: no graph needed.
        // (The linear head, whose output sub-step 6 does not use, is skipped.) Computed first,
        // while the reconstruction's graph does not yet hold memory.
        let realFeatures = withoutGrad { discriminator.features(x) }
        let recon6 = decoder(encoder(x, eps: try noise.normal(.feats, shape: latentShape)).z)
        let feats = mseLoss(discriminator.features(recon6), realFeatures)
        losses["feats"] = feats.item
        let reconstruction = context.reconstruction.loss(featureMatching: feats, reconstruction: recon6, images: x)
        update(6, reconstruction, encParams + decParams, [optimizers.encoder, optimizers.decoder])

        // 7. KLD.
        let encoding = encoder(x, eps: try noise.normal(.kld, shape: latentShape))
        let kld = context.kld.kld(z: encoding.z, mu: encoding.mu, logvar: encoding.logvar, update: true)
        let kldValue = kld.item
        losses["kld"] = kldValue
        let betaUsed = context.beta.beta
        update(7, kld * Float(betaUsed), encParams, [optimizers.encoder])
        let zStats = ElementStatistics(encoding.z)
        let stdStats = ElementStatistics(withoutGrad { (encoding.logvar.detached() * 0.5).exp() })

        // 8. Beta.
        context.stepsDone += 1
        context.beta.update(kld: Double(kldValue), step: context.stepsDone)

        // Pixel error, no gradient (batch norm still in training mode). Only logged: no parameter
        // depends on it, so the faster Winograd lowering may run (relative error ~1e-6).
        let pixelNoise = try noise.normal(.pixel, shape: latentShape)
        losses["pixel"] = ConvolutionLowering.withReferenceRounding(false) {
            withoutGrad { mseLoss(decoder(encoder(x, eps: pixelNoise).z), x).item }
        }

        return StepResult(losses: losses, beta: context.beta.beta, betaUsed: betaUsed, z: zStats, zStd: stdStats)
    }
}
