import ArgumentParser
import Foundation
import Inkwell

/// `inkwell train --data DATASET --out RUN`: trains the VAE-GAN on an ingested dataset and writes
/// the run directory (metrics.csv, evaluations/, samples/, checkpoints/). SIGINT or SIGTERM
/// finishes the current step, writes a checkpoint and exits 0; `--resume` continues exactly.
/// `--init WEIGHTS` starts a fresh run (step 0, fresh optimizers and strategies) from given
/// weights, recording their SHA-256 in config.json.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the VAE-GAN on a dataset, writing a run directory.",
        discussion: """
        The configuration file (JSON, or YAML by a .yaml/.yml extension) may set any of: \
        \(TrainingConfiguration.settingNames.joined(separator: ", ")). Options given here override \
        it. KLD strategies: \(StrategyRegistry.kldNames.joined(separator: ", ")). Beta strategies: \
        \(StrategyRegistry.betaNames.joined(separator: ", ")). Reconstruction losses: \
        \(StrategyRegistry.reconstructionNames.joined(separator: ", ")). Augmentations: \
        \(StrategyRegistry.augmentationNames.joined(separator: ", ")). docs/TRAINING.md describes them.
        """
    )

    @Option(help: "The dataset directory (made by `inkwell ingest`).")
    var data: String

    @Option(help: "The run directory to write (or, with --resume, to continue).")
    var out: String

    @Option(help: "A configuration file, JSON or YAML.")
    var config: String?

    @Option(help: "Total training steps to reach (default: the configuration's, else 10,000).")
    var steps: Int?

    @Option(help: "Total epochs to reach (instead of --steps).")
    var epochs: Int?

    @Flag(help: "Continue the run in --out from its latest checkpoint.")
    var resume = false

    @Flag(help: "Move the run already in --out aside (to OUT.old-DATE-TIME) and start afresh.")
    var restart = false

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Start a fresh run from these weights: a run directory, a checkpoint folder or a .safetensors state dict (widths must match the model).",
        valueName: "weights"))
    var initialWeights: String?

    // Help, defaults and checks of these come from the `train` stage's declaration (TrainStage)
    // and `TrainingConfiguration.problems()`.
    @Option(help: TrainCommand.flagHelp("preset"))
    var preset: String?

    @Option(help: TrainCommand.flagHelp("batch"))
    var batch: Int?

    @Option(help: TrainCommand.flagHelp("eval_every"))
    var evalEvery: Int?

    @Option(help: TrainCommand.flagHelp("minutes"))
    var minutes: Double?

    @Option(help: "Threads for OpenBLAS and the engine (default: all cores).")
    var threads: Int?

    func validate() throws {
        if steps != nil && epochs != nil { throw ValidationError("give --steps or --epochs, not both") }
        if resume && restart { throw ValidationError("give --resume or --restart, not both") }
        if let initialWeights {
            guard !resume else { throw ValidationError("give --init or --resume, not both: --init starts a fresh run, --resume continues one") }
            guard FileManager.default.fileExists(atPath: initialWeights) else { throw ValidationError("--init \(initialWeights): no such file or folder") }
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let preset, let problem = TrainStage.parameters[named: "preset"].problem(.string(preset)) {
            throw ValidationError("--preset \(problem), got '\(preset)'")
        }
        var flagged = TrainingConfiguration()
        try applyOptions(to: &flagged)
        let given = Set([batch.map { _ in "batch" }, evalEvery.map { _ in "eval_every" }, minutes.map { _ in "minutes" }].compactMap { $0 })
        if let problem = flagged.problems().first(where: { given.contains($0.setting) }) {
            // "batch must be ..." -> "--batch must be ..."
            let flag = "--" + problem.setting.replacingOccurrences(of: "_", with: "-")
            throw ValidationError(flag + problem.message.dropFirst(problem.setting.count))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data \(data): not a directory")
        }
        if let config, !FileManager.default.fileExists(atPath: config) { throw ValidationError("--config \(config): no such file") }
    }

    /// The configuration: the file (with --resume and no --config, the run's own config.json;
    /// otherwise the defaults), then the options.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        var file = config.map { URL(fileURLWithPath: $0) }
        let saved = RunLayout(URL(fileURLWithPath: out)).configuration
        if file == nil, resume, FileManager.default.fileExists(atPath: saved.path) { file = saved }
        var configuration = try file.map { try TrainingConfiguration.load(from: $0) } ?? TrainingConfiguration()
        try applyOptions(to: &configuration)
        configuration.dataset = URL(fileURLWithPath: data).standardizedFileURL.path
        if let initialWeights {
            configuration.initialWeights = TrainingConfiguration.InitialWeights(path: URL(fileURLWithPath: initialWeights).standardizedFileURL.path)
        }
        try configuration.validate()
        return configuration
    }

    /// The options given, over a configuration.
    func applyOptions(to configuration: inout TrainingConfiguration) throws {
        if let preset { configuration.model = try ModelWidths.preset(preset) }
        if let batch { configuration.batch = batch }
        if let evalEvery { configuration.evalEvery = evalEvery }
        if let minutes { configuration.minutes = minutes == 0 ? nil : minutes }
        if let steps { configuration.steps = steps; configuration.epochs = nil }
        if let epochs { configuration.epochs = epochs; configuration.steps = nil }
    }

    /// A flag's help: the stage parameter's documentation and default.
    static func flagHelp(_ name: String) -> ArgumentHelp {
        let spec = TrainStage.parameters[named: name]
        return ArgumentHelp(spec.documentation.prefix(1).uppercased() + spec.documentation.dropFirst()
                            + " (overrides the configuration; default \(spec.defaultValue!)).")
    }

    func run() throws {
        if let threads {
            BLAS.threads = threads
            Parallel.workers = threads
        }
        let stop = CancellationToken.trappingInterrupts(message: "signal received: finishing this step, then writing a checkpoint")
        // Under mpirun every rank runs this; rank 0 alone moves, locks and writes the run
        // directory, the others log to RUN/logs/rank-K.log (docs/DISTRIBUTED.md).
        let world = World.communicator
        do {
            var lock: RunLock?
            if world.isRoot {
                if restart, FileManager.default.fileExists(atPath: out) {
                    print("inkwell train: moved the previous run aside to \(try Trainer.moveAside(URL(fileURLWithPath: out)).path)")
                }
                // One job per run directory: a second is refused, naming the first.
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                lock = try RunLock(directory: URL(fileURLWithPath: out))
            }
            defer { lock?.release() }
            world.barrier()
            try RankOutput.redirectToRankLog(runDirectory: out)
            let trainer = try Trainer(configuration: try resolvedConfiguration(), runDirectory: URL(fileURLWithPath: out),
                                      dataset: URL(fileURLWithPath: data), resume: resume)
            let c = trainer.configuration
            if let initial = c.initialWeights {
                print("inkwell train: starting from \(initial.path) (sha256 \(initial.sha256 ?? "?"))")
            }
            let ranks = world.isDistributed ? ", \(world.size) ranks x \(BLAS.threads) threads" : ""
            print("inkwell train: \(out): widths \(c.model.encoder)/\(c.model.decoder)/\(c.model.discriminator) latent \(c.model.latent), frames \(c.model.frameSize[1]) x \(c.model.frameSize[0]), batch \(c.batch), kld \(c.kld.name), beta \(c.beta.name), \(trainer.model.parameterCount) parameters; from step \(trainer.step) to \(trainer.defaultTargetSteps)\(ranks)")
            var lastPrint = Date.distantPast
            let summary = try trainer.run(progress: { p in
                if p.evaluation != nil || p.step == p.targetSteps || Date().timeIntervalSince(lastPrint) >= 1 {
                    print(p.line)
                    fflush(nil)
                    lastPrint = Date()
                }
            }, shouldStop: { stop.isCancelled })
            if summary.stoppedEarly {
                print("stopped by signal at step \(summary.steps); checkpoint written to \(trainer.latestCheckpoint.path) (continue with --resume)")
            } else {
                let best = summary.bestTestPixel.map { String(format: ", best test pixel MSE %.5g", $0) } ?? ""
                print("done: \(summary.steps) steps\(best); run in \(out)")
            }
        } catch let error as TrainingError {
            RankOutput.error("inkwell train: \(error)")
            throw ExitCode(1)
        } catch let error as RunLock.Refused {
            RankOutput.error("inkwell train: \(error)")
            throw ExitCode(75)
        } catch let error as RankOutputError {
            RankOutput.error("inkwell train: \(error)")
            throw ExitCode(1)
        }
    }
}
