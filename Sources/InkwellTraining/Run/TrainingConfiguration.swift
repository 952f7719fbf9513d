import Foundation
import Yams

/// A training run's resolved configuration, written to RUN/config.json. Every key is optional in a config file (JSON or YAML); missing keys take
/// the defaults below (the reference's values), unknown keys are an error.
///
/// Example (YAML):
///
///     preset: narrow          # or reference (default), or give `model:` widths
///     batch: 16
///     steps: 500
///     eval_every: 100
///     kld: {name: moving-batch, momentum: 0.1}
///     beta: {name: dual-gradient, initial: 10, step: 0.1, target: 0.1, min: 0.001}
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// The model widths (default: the reference's).
    public var model: ModelWidths = .reference
    /// Images per step (64; 2...65536).
    public var batch: Int = 64
    /// Adam's settings for all three optimizers (1e-4, 0.9, 0.999, 1e-8).
    public var learningRate: Double = 1e-4
    /// Per-optimizer learning rates that replace `learningRate` for one part (nil: `learningRate`).
    public var learningRates = PartLearningRates()
    /// Steps over which every learning rate rises linearly from lr / warmup to lr (0: none).
    public var warmup: Int = 0
    /// How every learning rate falls after the warm-up (none: it stays).
    public var decay: LearningRateDecay = .none
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var adamEps: Double = 1e-8
    /// Total training steps to reach (nil: use `epochs`; neither: 10,000).
    public var steps: Int?
    /// Total epochs to reach, when `steps` is nil.
    public var epochs: Int?
    /// Wall-clock budget of the whole run in minutes, resumed runs counting their earlier time
    /// (nil: none). Where the steps would not fit, the run ends at the last step the budget allows
    /// and the learning-rate decay ends there (`TimeBudget`).
    public var minutes: Double?
    /// Evaluate on the test split every this many steps (1000), and at the end.
    public var evalEvery: Int = 1000
    /// Test frames used per evaluation (512; 0 = the whole split).
    public var evalFrames: Int = 512
    /// Write checkpoints/latest every this many steps (0: at each evaluation only).
    public var checkpointEvery: Int = 0
    /// How many best checkpoints (by test pixel error) to keep (3).
    public var keepBest: Int = 3
    /// Fixed latents decoded into fakes at each evaluation (32, at most 4096; drawn with
    /// `fixedLatentSeed` 0).
    public var fixedLatents: Int = 32
    public var fixedLatentSeed: UInt64 = 0
    /// KLD strategy (default "moving-batch" with momentum 0.1).
    public var kld = StrategyChoice(name: MovingBatchKLD.name)
    /// Beta strategy (default "dual-gradient": initial 10, step 0.1, target 0.1, min 1e-3).
    public var beta = StrategyChoice(name: DualGradientBeta.name)
    /// Step schedule (default "seed", SPEC.md section 3).
    public var schedule = StrategyChoice(name: SeedSchedule.name)
    /// The reconstruction sub-update's loss (default "feature-matching", the seed's).
    public var reconstruction = StrategyChoice(name: FeatureMatchingLoss.name)
    /// The training batches' random transform (default "none", the seed's).
    public var augment = StrategyChoice(name: NoAugmentation.name)
    /// Seed of the initial weights, the step noise and the shuffle (0).
    public var seed: UInt64 = 0
    /// The dataset directory (recorded for the report).
    public var dataset: String?
    /// Weights a fresh run starts from instead of random ones (`train --init`).
    public var initialWeights: InitialWeights?
    /// Where a fresh run starts the model's linear paths (zero; pca needs `linear_skip` and
    /// `linear_encoder`). Not used when the run starts from `initialWeights`.
    public var linearInit: LinearInit = .zero

    /// Weights to start from: a run directory, checkpoint folder or bare `.safetensors` state dict,
    /// and the SHA-256 of the weights file read (filled in when the run starts).
    public struct InitialWeights: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String?
        public init(path: String, sha256: String? = nil) { self.path = path; self.sha256 = sha256 }
    }

    public init() {}

    /// The keys a configuration file may set.
    public static var settingNames: [String] {
        CodingKeys.allCases.map(\.stringValue).filter { !["frame", "dataset"].contains($0) }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, batch, steps, epochs, minutes, kld, beta, schedule, reconstruction, augment, seed, dataset, warmup
        case decay = "lr_decay"
        case lrEncoder = "lr_encoder", lrDecoder = "lr_decoder", lrDiscriminator = "lr_discriminator"
        case learningRate = "lr", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", adamEps = "adam_eps"
        case evalEvery = "eval_every", evalFrames = "eval_frames", checkpointEvery = "checkpoint_every"
        case keepBest = "keep_best", fixedLatents = "fixed_latents", fixedLatentSeed = "fixed_latent_seed"
        case preset
        case frame
        case initialWeights = "init"
        case linearInit = "linear_init", lrLinear = "lr_linear"
    }

    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfiguration()
        if let preset = try c.decodeIfPresent(String.self, forKey: .preset) { model = try ModelWidths.preset(preset) }
        model = try c.decodeIfPresent(ModelWidths.self, forKey: .model) ?? model
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? d.batch
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        adamBeta1 = try c.decodeIfPresent(Double.self, forKey: .adamBeta1) ?? d.adamBeta1
        adamBeta2 = try c.decodeIfPresent(Double.self, forKey: .adamBeta2) ?? d.adamBeta2
        adamEps = try c.decodeIfPresent(Double.self, forKey: .adamEps) ?? d.adamEps
        learningRates.encoder = try c.decodeIfPresent(Double.self, forKey: .lrEncoder)
        learningRates.decoder = try c.decodeIfPresent(Double.self, forKey: .lrDecoder)
        learningRates.discriminator = try c.decodeIfPresent(Double.self, forKey: .lrDiscriminator)
        learningRates.linear = try c.decodeIfPresent(Double.self, forKey: .lrLinear)
        linearInit = try c.decodeIfPresent(LinearInit.self, forKey: .linearInit) ?? d.linearInit
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        decay = try c.decodeIfPresent(LearningRateDecay.self, forKey: .decay) ?? d.decay
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        minutes = try c.decodeIfPresent(Double.self, forKey: .minutes)
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery) ?? d.evalEvery
        evalFrames = try c.decodeIfPresent(Int.self, forKey: .evalFrames) ?? d.evalFrames
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery
        keepBest = try c.decodeIfPresent(Int.self, forKey: .keepBest) ?? d.keepBest
        fixedLatents = try c.decodeIfPresent(Int.self, forKey: .fixedLatents) ?? d.fixedLatents
        fixedLatentSeed = try c.decodeIfPresent(UInt64.self, forKey: .fixedLatentSeed) ?? d.fixedLatentSeed
        kld = try c.decodeIfPresent(StrategyChoice.self, forKey: .kld) ?? d.kld
        beta = try c.decodeIfPresent(StrategyChoice.self, forKey: .beta) ?? d.beta
        schedule = try c.decodeIfPresent(StrategyChoice.self, forKey: .schedule) ?? d.schedule
        reconstruction = try c.decodeIfPresent(StrategyChoice.self, forKey: .reconstruction) ?? d.reconstruction
        augment = try c.decodeIfPresent(StrategyChoice.self, forKey: .augment) ?? d.augment
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset)
        initialWeights = try c.decodeIfPresent(InitialWeights.self, forKey: .initialWeights)
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(model.frameSize, forKey: .frame)
        try c.encode(batch, forKey: .batch)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(adamBeta1, forKey: .adamBeta1)
        try c.encode(adamBeta2, forKey: .adamBeta2)
        try c.encode(adamEps, forKey: .adamEps)
        try c.encodeIfPresent(learningRates.encoder, forKey: .lrEncoder)
        try c.encodeIfPresent(learningRates.decoder, forKey: .lrDecoder)
        try c.encodeIfPresent(learningRates.discriminator, forKey: .lrDiscriminator)
        try c.encodeIfPresent(learningRates.linear, forKey: .lrLinear)
        if linearInit != .zero { try c.encode(linearInit, forKey: .linearInit) }
        try c.encode(warmup, forKey: .warmup)
        try c.encode(decay, forKey: .decay)
        try c.encodeIfPresent(steps, forKey: .steps)
        try c.encodeIfPresent(epochs, forKey: .epochs)
        try c.encodeIfPresent(minutes, forKey: .minutes)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(evalFrames, forKey: .evalFrames)
        try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encode(keepBest, forKey: .keepBest)
        try c.encode(fixedLatents, forKey: .fixedLatents)
        try c.encode(fixedLatentSeed, forKey: .fixedLatentSeed)
        try c.encode(kld, forKey: .kld)
        try c.encode(beta, forKey: .beta)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(reconstruction, forKey: .reconstruction)
        try c.encode(augment, forKey: .augment)
        try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(dataset, forKey: .dataset)
        try c.encodeIfPresent(initialWeights, forKey: .initialWeights)
    }

    /// Reads a JSON or YAML file (by extension: .yaml/.yml are YAML, anything else JSON). Errors
    /// name the file and the reason (an unknown key, a bad value, bad syntax).
    public static func load(from url: URL) throws -> TrainingConfiguration {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingError.configuration("\(url.path): cannot read (\(error.localizedDescription))")
        }
        let isYAML = ["yaml", "yml"].contains(url.pathExtension.lowercased())
        do {
            let keys: [String]
            let config: TrainingConfiguration
            if isYAML {
                guard let root = try Yams.load(yaml: text) as? [String: Any] else {
                    throw TrainingError.configuration("\(url.path): expected a mapping of settings")
                }
                keys = Array(root.keys)
                config = try YAMLDecoder().decode(TrainingConfiguration.self, from: text)
            } else {
                let data = Data(text.utf8)
                guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw TrainingError.configuration("\(url.path): expected a JSON object of settings")
                }
                keys = Array(root.keys)
                config = try JSONDecoder().decode(TrainingConfiguration.self, from: data)
            }
            let known = Set(CodingKeys.allCases.map(\.stringValue))
            if let unknown = keys.sorted().first(where: { !known.contains($0) }) {
                throw TrainingError.configuration("\(url.path): unknown setting '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            try config.validate()
            return config
        } catch let error as TrainingError {
            if case .configuration(let s) = error, !s.hasPrefix(url.path) {
                throw TrainingError.configuration("\(url.path): \(s)")
            }
            throw error
        } catch let error as DecodingError {
            throw TrainingError.configuration("\(url.path): \(describe(error))")
        } catch {
            throw TrainingError.configuration("\(url.path): \(error)")
        }
    }

    /// Checks values and that the named strategies exist with valid parameters; throws the first
    /// of `problems()`.
    public func validate() throws {
        if let first = problems().first { throw TrainingError.configuration(first.message) }
    }

    /// Every problem of the values, by setting name ("batch", "lr", "kld", ...; "model" for the
    /// widths). The one home of training's checks: configuration files, `inkwell train`'s flags
    /// and the `train` stage's parameters all come here.
    public func problems() -> [(setting: String, message: String)] {
        var found: [(setting: String, message: String)] = []
        func require(_ ok: Bool, _ setting: String, _ message: @autoclosure () -> String) {
            if !ok { found.append((setting, message())) }
        }
        func attempt(_ setting: String, _ body: () throws -> Void) {
            do { try body() } catch TrainingError.configuration(let reason) { found.append((setting, reason)) } catch {
                found.append((setting, "\(error)"))
            }
        }
        attempt("model") { try model.validate() }
        require(batch >= 2, "batch", "batch must be at least 2 (batch statistics), got \(batch)")
        require(batch <= 65536, "batch", "batch must be at most 65536, got \(batch)")
        for (key, lr) in [("lr", learningRate)] + learningRates.named.compactMap({ k, v in v.map { ("lr_" + k, $0) } }) {
            require(lr > 0 && lr.isFinite, key, "\(key) must be positive, got \(lr)")
            require(!(lr > 10), key, "\(key) must be at most 10, got \(lr)")
        }
        require(linearInit != .pca || (model.linearSkip && model.linearEncoder), "linear_init",
                "linear_init pca starts the linear paths, and the model lacks \(model.linearSkip ? "linear_encoder" : model.linearEncoder ? "linear_skip" : "linear_skip and linear_encoder")")
        require(learningRates.linear == nil || model.linearSkip || model.linearEncoder, "lr_linear",
                "lr_linear sets the linear paths' rate, and the model has none (linear_skip, linear_encoder)")
        require(warmup >= 0, "warmup", "warmup must not be negative, got \(warmup)")
        require((steps ?? 0) >= 0, "steps", "steps must not be negative, got \(steps ?? 0)")
        require((epochs ?? 0) >= 0, "epochs", "epochs must not be negative, got \(epochs ?? 0)")
        require(minutes.map { $0 > 0 && $0.isFinite } ?? true, "minutes", "minutes must be a positive number, got \(minutes ?? 0)")
        require(evalEvery > 0, "eval_every", "eval_every must be positive, got \(evalEvery)")
        require(evalFrames >= 0, "eval_frames", "eval_frames must not be negative, got \(evalFrames)")
        require(checkpointEvery >= 0, "checkpoint_every", "checkpoint_every must not be negative, got \(checkpointEvery)")
        require(keepBest >= 0, "keep_best", "keep_best must not be negative, got \(keepBest)")
        require(fixedLatents > 0, "fixed_latents", "fixed_latents must be positive, got \(fixedLatents)")
        require(fixedLatents <= 4096, "fixed_latents", "fixed_latents must be at most 4096, got \(fixedLatents)")
        attempt("kld") { _ = try StrategyRegistry.makeKLD(kld) }
        attempt("beta") { _ = try StrategyRegistry.makeBeta(beta) }
        attempt("schedule") { _ = try StrategyRegistry.makeSchedule(schedule) }
        attempt("reconstruction") { _ = try StrategyRegistry.makeReconstruction(reconstruction) }
        attempt("augment") { _ = try StrategyRegistry.makeAugmentation(augment) }
        return found
    }

    /// The learning rate of one optimizer ("encoder", "decoder", "discriminator"), or of the linear
    /// paths ("linear"; nil: their optimizer's), after `stepsDone` of `totalSteps` steps: its own
    /// rate (or `lr`), scaled by the warm-up's (stepsDone + 1) /
    /// warmup while stepsDone < warmup, then by the decay's factor (cosine: from 1 after the
    /// warm-up to 0 at `totalSteps`).
    public func learningRate(of part: String, stepsDone: Int, totalSteps: Int? = nil) -> Double {
        let base = baseRate(of: part) ?? learningRate
        if warmup > 0, stepsDone < warmup { return base * Double(stepsDone + 1) / Double(warmup) }
        guard decay == .cosine, let totalSteps, totalSteps > warmup else { return base }
        let progress = Double(min(stepsDone - warmup, totalSteps - warmup)) / Double(totalSteps - warmup)
        return base * 0.5 * (1 + cos(Double.pi * progress))
    }

    /// A part's rate before the warm-up and decay: its own, else `lr` (the linear paths: theirs,
    /// else nil, their optimizer's).
    public func baseRate(of part: String) -> Double? {
        learningRates.named.first { $0.0 == part }?.1 ?? (part == "linear" ? nil : learningRate)
    }

    /// This configuration with every strategy's parameters spelled out (defaults included), as
    /// written to config.json.
    public func resolved() throws -> TrainingConfiguration {
        var c = self
        func resolve<P: StrategyParameters>(_ choice: StrategyChoice, _ parameters: P) throws -> StrategyChoice {
            try choice.resolved(parameters)
        }
        let k = try StrategyRegistry.makeKLD(kld)
        c.kld = try resolve(kld, k.parameters)
        let b = try StrategyRegistry.makeBeta(beta)
        c.beta = try resolve(beta, b.parameters)
        let s = try StrategyRegistry.makeSchedule(schedule)
        c.schedule = try resolve(schedule, s.parameters)
        let r = try StrategyRegistry.makeReconstruction(reconstruction)
        c.reconstruction = try resolve(reconstruction, r.parameters)
        c.augment = try resolve(augment, StrategyRegistry.makeAugmentation(augment).parameters)
        return c
    }
}

/// How the learning rates fall over a run, after the warm-up.
public enum LearningRateDecay: String, Codable, CaseIterable, Sendable {
    /// They stay at their values (the seed's).
    case none
    /// Half a cosine, from their values to 0 at the run's last step.
    case cosine
}

/// Learning rates that replace `lr` for one of the three optimizers (nil: `lr`), and for the
/// linear paths within theirs (nil: that optimizer's).
public struct PartLearningRates: Codable, Equatable, Sendable {
    public var encoder: Double?
    public var decoder: Double?
    public var discriminator: Double?
    /// The linear paths' (`vae.encoder.skip`, `vae.decoder.skip`).
    public var linear: Double?
    public init(encoder: Double? = nil, decoder: Double? = nil, discriminator: Double? = nil, linear: Double? = nil) {
        self.encoder = encoder; self.decoder = decoder; self.discriminator = discriminator; self.linear = linear
    }
    /// By name: the optimizers' as `VAEGANOptimizers.named`, then "linear".
    public var named: [(String, Double?)] {
        [("encoder", encoder), ("decoder", decoder), ("discriminator", discriminator), ("linear", linear)]
    }
}
