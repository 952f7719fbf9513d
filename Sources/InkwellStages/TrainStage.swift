import Foundation
import InkwellPipeline
import InkwellTraining

/// `train`: trains the VAE-GAN on a dataset with InkwellTraining's `Trainer`, writing the run
/// directory (config.json, metrics.csv, evaluations/, samples/,
/// checkpoints/). KLD, beta and step schedule are strategies chosen by name. An interrupted
/// stage resumes from `checkpoints/latest` exactly (the trainer's resume).
public struct TrainStage: Stage {
    public static let kind = "train"
    public static let version = 1
    public static let documentation = """
        Trains the VAE-GAN (SPEC.md sections 2-5) on the dataset's train split, evaluating on its \
        test split every eval_every steps and at the end. Writes a run directory (config.json, \
        metrics.csv, evaluations/, samples/, checkpoints/latest and best-K). Resumes from its \
        checkpoint when the run was interrupted.
        """
    public static let inputs = [PortSpec("data", .dataset, "the frame dataset (its frame size must fit the widths)")]
    public static let outputs = [
        PortSpec("run", .checkpoint, path: "run", "the run directory"),
        PortSpec("checkpoint", .checkpoint, path: "run/checkpoints/latest", "the final checkpoint"),
        PortSpec("metrics", .metrics, path: "run/metrics.csv", "one row per step and per evaluation"),
    ]
    /// Defaults come from `TrainingConfiguration()`, and values are checked by its `problems()`
    /// (through `validate`), so the stage, `inkwell train` and configuration files share them;
    /// the checks here are the stage's own (0 meaning "the preset's", "use lr" or "not set").
    public static let parameters: [ParameterSpec] = {
        let d = TrainingConfiguration()
        return [
            ParameterSpec("preset", .choice(ModelWidths.presetNames), default: .string("reference"),
                          "model widths: reference (latent 1024, 138M parameters), cpu (latent 128, a quarter of the widths, for 2-core CPUs) or narrow (latent 16, for demos and tests)"),
            ParameterSpec("latent", .int, default: .int(0), "latent size (0: the preset's)", check: ParameterSpec.range(0, 65536)),
            ParameterSpec("linear_skip", .bool, default: .bool(false),
                          "add a linear map from the latent to every pixel to the decoder (not the seed's model: docs/TRAINING.md)"),
            ParameterSpec("linear_encoder", .bool, default: .bool(false),
                          "add a linear map from the pixels to the posterior mean to the encoder (not the seed's model: docs/TRAINING.md)"),
            ParameterSpec("linear_init", .choice(LinearInit.allCases.map(\.rawValue)), default: .string(d.linearInit.rawValue),
                          "where a fresh run starts the linear paths: zero, or pca (a PCA of the training frames; needs linear_skip and linear_encoder)"),
            ParameterSpec("batch", .int, default: .int(d.batch), "images per step"),
            ParameterSpec("steps", .int, default: .int(0), "total steps (0: use epochs; neither: 10,000)"),
            ParameterSpec("epochs", .int, default: .int(0), "total epochs, when steps is 0"),
            ParameterSpec("minutes", .double, default: .double(0),
                          "wall-clock budget of the run (0: none); where the steps would not fit, it ends at the last step that does, its learning-rate decay with it"),
            ParameterSpec("lr", .double, default: .double(d.learningRate), "Adam learning rate of all three optimizers"),
            ParameterSpec("lr_encoder", .double, default: .double(0), "the encoder's learning rate (0: lr)"),
            ParameterSpec("lr_decoder", .double, default: .double(0), "the decoder's learning rate (0: lr)"),
            ParameterSpec("lr_discriminator", .double, default: .double(0), "the discriminator's learning rate (0: lr)"),
            ParameterSpec("lr_linear", .double, default: .double(0), "the linear paths' learning rate (0: that of the encoder or decoder holding each)"),
            ParameterSpec("warmup", .int, default: .int(d.warmup), "steps over which every learning rate rises linearly to its value (0: none)"),
            ParameterSpec("lr_decay", .choice(LearningRateDecay.allCases.map(\.rawValue)), default: .string(d.decay.rawValue),
                          "how every learning rate falls after the warm-up: none, or cosine (to 0 at the last step)"),
            ParameterSpec("eval_every", .int, default: .int(d.evalEvery), "evaluate on the test split every this many steps (and at the end)"),
            ParameterSpec("eval_frames", .int, default: .int(d.evalFrames), "test frames per evaluation (0: the whole split)"),
            ParameterSpec("checkpoint_every", .int, default: .int(d.checkpointEvery), "write checkpoints/latest every this many steps (0: at evaluations only)"),
            ParameterSpec("keep_best", .int, default: .int(d.keepBest), "best checkpoints kept, by test pixel error"),
            ParameterSpec("fixed_latents", .int, default: .int(d.fixedLatents), "fixed latent samples decoded into fakes at each evaluation"),
            ParameterSpec("seed", .int, default: .int(Int(d.seed)), "seed of the weights, the noise and the shuffle", check: ParameterSpec.range(0, nil)),
            ParameterSpec("kld", .strategy(family: "kld"), default: .strategy(d.kld), "KLD strategy (SPEC.md section 4)"),
            ParameterSpec("beta", .strategy(family: "beta"), default: .strategy(d.beta), "beta strategy (SPEC.md section 5)"),
            ParameterSpec("schedule", .strategy(family: "schedule"), default: .strategy(d.schedule), "the step's update sequence (SPEC.md section 3)"),
            ParameterSpec("reconstruction", .strategy(family: "reconstruction"), default: .strategy(d.reconstruction),
                          "the reconstruction sub-update's loss (docs/TRAINING.md)"),
            ParameterSpec("augment", .strategy(family: "augmentation"), default: .strategy(d.augment),
                          "a random transform of each training batch (docs/TRAINING.md)"),
        ]
    }()

    public init() {}

    /// The trainer's configuration for resolved parameters.
    public static func configuration(_ p: ResolvedParameters) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = try ModelWidths.preset(p.string("preset"))
        if p.int("latent") > 0 { c.model.latent = p.int("latent") }
        c.model.linearSkip = p.bool("linear_skip")
        c.model.linearEncoder = p.bool("linear_encoder")
        c.linearInit = LinearInit(rawValue: p.string("linear_init")) ?? .zero
        c.batch = p.int("batch")
        if p.int("steps") != 0 { c.steps = p.int("steps") }
        if p.int("epochs") != 0 { c.epochs = p.int("epochs") }
        c.minutes = given(p.double("minutes"))
        c.learningRate = p.double("lr")
        c.learningRates = PartLearningRates(encoder: given(p.double("lr_encoder")), decoder: given(p.double("lr_decoder")),
                                            discriminator: given(p.double("lr_discriminator")), linear: given(p.double("lr_linear")))
        c.warmup = p.int("warmup")
        c.decay = LearningRateDecay(rawValue: p.string("lr_decay")) ?? .none
        c.evalEvery = p.int("eval_every")
        c.evalFrames = p.int("eval_frames")
        c.checkpointEvery = p.int("checkpoint_every")
        c.keepBest = p.int("keep_best")
        c.fixedLatents = p.int("fixed_latents")
        c.seed = UInt64(p.int("seed"))
        c.kld = p.strategy("kld")
        c.beta = p.strategy("beta")
        c.schedule = p.strategy("schedule")
        c.reconstruction = p.strategy("reconstruction")
        c.augment = p.strategy("augment")
        return c
    }

    /// nil for 0 ("use lr"); a negative rate is kept for `problems()` to report.
    private static func given(_ v: Double) -> Double? { v != 0 ? v : nil }

    /// The configuration's `problems()`, each at its parameter ("model": the stage).
    public static func validate(_ p: ResolvedParameters) -> [(parameter: String?, message: String)] {
        do {
            let names = Set(parameters.map(\.name))
            return try configuration(p).problems().map { problem in (names.contains(problem.setting) ? problem.setting : nil, problem.message) }
        } catch {
            return [(nil, "\(error)")]
        }
    }

    public func run(_ context: StageContext) throws {
        var configuration = try Self.configuration(context.parameters)
        let dataset = try context.input("data").url
        configuration.dataset = dataset.path
        let runDirectory = context.output("run")
        let resume = context.isResuming && Checkpoint.exists(at: RunLayout(runDirectory).latestCheckpoint)
        if !resume { try? FileManager.default.removeItem(at: runDirectory) }
        // Under mpirun, the other ranks train this stage with rank 0 (docs/DISTRIBUTED.md).
        try RankJobs.announce(.train(TrainingJob(configuration: configuration, runDirectory: runDirectory, dataset: dataset, resume: resume)))
        let trainer = try Trainer(configuration: configuration, runDirectory: runDirectory, dataset: dataset, resume: resume)
        trainer.log = { context.logger.info($0) }
        if resume { context.logger.info("resuming from checkpoints/latest at step \(trainer.step)") }
        let summary = try trainer.run(
            progress: { p in
                context.progress.update(Double(p.step) / Double(max(p.targetSteps, 1)), p.line)
                if let e = p.evaluation {
                    context.logger.info(String(format: "evaluation at step %d: pixel MSE %.5f, PSNR %.2f dB, diversity ratio %.3f, collapsed %.2f",
                                               e.step, e.pixelMSE, e.psnr, e.diversity.ratio, e.collapsedFraction))
                    if let summary = e.baselineSummary { context.logger.info(summary) }
                }
            },
            shouldStop: { context.cancellation.isCancelled })
        if summary.stoppedEarly {
            context.logger.info("stopped at step \(summary.steps) with a checkpoint; the next run resumes from it")
            throw StageError.cancelled
        }
        context.logger.info("trained \(summary.steps) steps" + (summary.bestTestPixel.map { String(format: ", best test pixel MSE %.5f", $0) } ?? ""))
    }
}
