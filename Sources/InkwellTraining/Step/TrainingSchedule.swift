import InkwellDistributed
import InkwellEngine
import InkwellNN

/// The three optimizers of the VAE-GAN (SPEC.md section 3): encoder, decoder, discriminator.
public final class VAEGANOptimizers {
    public let encoder: Adam
    public let decoder: Adam
    public let discriminator: Adam

    /// Adam over each part's parameters (learning rate 1e-4, betas 0.9/0.999, eps 1e-8 by default).
    public init(model: VAEGAN, learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        func adam(_ m: Module) -> Adam {
            Adam(parameters: m.parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps)
        }
        encoder = adam(model.encoder)
        decoder = adam(model.decoder)
        discriminator = adam(model.discriminator)
    }

    /// By name, for checkpoints: "encoder", "decoder", "discriminator".
    public var named: [(String, Adam)] { [("encoder", encoder), ("decoder", decoder), ("discriminator", discriminator)] }

    /// Gives `parameters` (the model's linear paths) a rate of their own: `scale(part)` times the
    /// rate of the optimizer ("encoder", "decoder", ...) that holds each.
    public func scaleRates(of parameters: [Tensor], by scale: (String) -> Float) {
        let chosen = Set(parameters.map(ObjectIdentifier.init))
        for (part, optimizer) in named {
            for (index, p) in optimizer.parameters.enumerated() where chosen.contains(ObjectIdentifier(p)) {
                optimizer.rateScales[index] = scale(part)
            }
        }
    }
}

/// Everything a step works on: the model, its optimizers and the strategies.
public final class StepContext {
    public let model: VAEGAN
    public let optimizers: VAEGANOptimizers
    public let kld: any KLDStrategy
    public let beta: any BetaStrategy
    /// The reconstruction sub-update's loss (the seed's feature matching by default).
    public let reconstruction: any ReconstructionLoss
    /// Training steps completed before this one.
    public var stepsDone: Int
    /// Called after each sub-update's backward pass, before its optimizers step, with the
    /// sub-update's number (1 ... 7 in the seed schedule) and the parameters it steps (their
    /// `grad` is what the step applies). The golden check compares these with PyTorch's.
    public var gradientObserver: ((_ subUpdate: Int, _ parameters: [Tensor]) -> Void)?
    /// In data-parallel training, sums each sub-update's gradients over the ranks (only the
    /// parameters it steps), during and after its backward pass and before the observer and the
    /// optimizers (`backward(_:to:)`). Nil in one process.
    public var gradientReducer: GradientReducer?

    /// A sub-update's backward pass: back-propagates `loss` to `parameters` only, and in
    /// data-parallel training sums their gradients over the ranks (`gradientReducer`).
    public func backward(_ loss: Tensor, to parameters: [Tensor]) {
        if let gradientReducer {
            gradientReducer.backward(loss, to: parameters)
        } else {
            loss.backward(to: parameters)
        }
    }

    public init(model: VAEGAN, optimizers: VAEGANOptimizers, kld: any KLDStrategy, beta: any BetaStrategy,
                reconstruction: any ReconstructionLoss = FeatureMatchingLoss(), stepsDone: Int = 0) {
        self.model = model
        self.optimizers = optimizers
        self.kld = kld
        self.beta = beta
        self.reconstruction = reconstruction
        self.stepsDone = stepsDone
    }
}

/// Summary statistics of a tensor's elements.
public struct ElementStatistics: Equatable, Sendable {
    public var mean: Double, min: Double, max: Double, variance: Double
    public init(mean: Double, min: Double, max: Double, variance: Double) {
        self.mean = mean; self.min = min; self.max = max; self.variance = variance
    }
    /// Mean, min, max and population variance of every element of `t` (of the global batch whose
    /// local part `t` is, inside a data-parallel step: `GlobalBatch`).
    public init(_ t: Tensor) {
        var sum = 0.0, lo = Double.infinity, hi = -Double.infinity
        for v in t.buffer { let d = Double(v); sum += d; lo = Swift.min(lo, d); hi = Swift.max(hi, d) }
        let totals = GlobalBatch.summed([sum, Double(t.count)])
        let extremes = GlobalBatch.maximised([-lo, hi])
        let n = Swift.max(totals[1], 1)
        let m = totals[0] / n
        var sq = 0.0
        for v in t.buffer { let d = Double(v) - m; sq += d * d }
        self.init(mean: m, min: -extremes[0], max: extremes[1], variance: GlobalBatch.summed([sq])[0] / n)
    }
}

/// What one training step reports (SPEC.md section 6's per-step columns).
public struct StepResult: Sendable {
    /// Losses by name: "disc_real", "disc_recon", "gen_recon", "disc_fake", "gen_fake", "feats",
    /// "kld", "pixel" (the seed schedule's set; another schedule may report others).
    public var losses: [String: Float]
    /// beta after the step's update.
    public var beta: Double
    /// The beta the step's KLD was weighted with.
    public var betaUsed: Double
    /// Statistics of the sampled z and of the posterior standard deviation exp(logvar / 2).
    public var z: ElementStatistics
    public var zStd: ElementStatistics

    public init(losses: [String: Float], beta: Double, betaUsed: Double, z: ElementStatistics, zStd: ElementStatistics) {
        self.losses = losses; self.beta = beta; self.betaUsed = betaUsed; self.z = z; self.zStd = zStd
    }

    /// The first loss that is NaN or infinite, in a fixed order, or nil.
    public var firstNonFiniteLoss: (String, Float)? {
        losses.sorted { $0.key < $1.key }.first { !$0.value.isFinite }.map { ($0.key, $0.value) }
    }
}

/// One training step's update sequence over a batch. `SeedSchedule` ("seed") is SPEC.md section
/// 3's; another conformer registered with `StrategyRegistry.register(_:)` replaces it by name.
public protocol TrainingSchedule: TrainingStrategy {

    /// Runs one step on images x (N, C, H, W) in [-1, 1], drawing normals from `noise`; updates
    /// the model, optimizers and strategies of `context` in place. Callers use `run`, which
    /// computes it with PyTorch's rounding.
    func step(_ context: StepContext, images x: Tensor, noise: NoiseSource) throws -> StepResult
}

extension TrainingSchedule {

    /// `step`, with every convolution lowered as PyTorch lowers it (im2col + gemm, no Winograd:
    /// `ConvolutionLowering.withReferenceRounding`). A step must compute what PyTorch computes,
    /// and its first Adam updates turn rounding differences into sign flips of near-zero
    /// gradients (docs/PERFORMANCE.md, "Exactness at every width").
    public func run(_ context: StepContext, images x: Tensor, noise: NoiseSource) throws -> StepResult {
        try ConvolutionLowering.withReferenceRounding { try step(context, images: x, noise: noise) }
    }
}
