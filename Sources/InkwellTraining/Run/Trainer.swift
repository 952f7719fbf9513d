import Foundation
import InkwellDataset
import InkwellDistributed
import InkwellEngine
import InkwellFiles
import InkwellNN

/// What the trainer reports after every step (for progress lines and pipeline stages).
public struct TrainingProgress: Sendable {
    /// Steps completed, and the total the run goes to.
    public var step: Int
    public var targetSteps: Int
    public var epoch: Int
    /// Training throughput over recent steps.
    public var imagesPerSecond: Double
    /// Estimated seconds to the target.
    public var secondsRemaining: Double
    /// The step's losses ("kld", "pixel", "feats", "gen_recon", ...) and beta after it.
    public var losses: [String: Float]
    public var beta: Double
    /// The evaluation made after this step, if one was.
    public var evaluation: EvaluationResult?

    /// "step 120/500  3.1 img/s  ETA 2m03s  kld 0.1123 beta 9.9871 pixel 0.2012 feats ..." (one line).
    public var line: String {
        let eta = DurationFormat.compact(secondsRemaining)
        let keys = ["kld", "pixel", "feats", "gen_recon", "gen_fake", "disc_real", "disc_fake"]
        let shown = keys.compactMap { key in losses[key].map { "\(key) \(String(format: "%.4g", $0))" } }.joined(separator: " ")
        var text = "step \(step)/\(targetSteps)  epoch \(epoch)  \(String(format: "%.2f", imagesPerSecond)) img/s  ETA \(eta)  \(shown)  beta \(String(format: "%.4g", beta))"
        if let e = evaluation {
            text += "\n  test @\(e.step): pixel \(String(format: "%.4g", e.pixelMSE)) psnr \(String(format: "%.2f", e.psnr)) dB  diversity \(String(format: "%.3f", e.diversity.ratio))  collapsed \(String(format: "%.2f", e.collapsedFraction))"
            if let summary = e.baselineSummary { text += "\n  \(summary)" }
        }
        return text
    }
}

/// How a `run` ended.
public struct TrainingSummary: Sendable {
    /// Steps completed in total (including those before a resume).
    public var steps: Int
    /// Whether `shouldStop` ended the run before its target (a checkpoint was written).
    public var stoppedEarly: Bool
    public var lastEvaluation: EvaluationResult?
    /// The lowest test pixel error seen by this run (this process).
    public var bestTestPixel: Double?
}

/// Trains the VAE-GAN: steps, metrics, evaluations, checkpoints, resume (the run directory of
/// docs/RUN-DIRECTORY.md, whose paths `RunLayout` owns).
///
///     let trainer = try Trainer(configuration: config, runDirectory: run, dataset: datasetURL, resume: false)
///     let summary = try trainer.run(progress: { print($0.line) }, shouldStop: { cancelled })
///
/// Everything that can be checked is checked in `init`, before any work: the configuration, the
/// frame size against the widths, a dataset smaller than one batch, a checkpoint that is corrupt
/// or does not fit the widths.
///
/// Data-parallel (docs/DISTRIBUTED.md): with a `communicator` of several ranks, every rank runs
/// the same trainer over its rows of each global batch (`BatchSplit`); the step's batch
/// reductions span the ranks (`GlobalBatch`), each sub-update's gradients are summed
/// (`GradientReducer`), rank 0's weights are broadcast at start and the replicas' digests
/// compared every `replicaCheckEvery` steps. Rank 0 alone writes the run directory.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let runDirectory: URL
    /// The paths of the run directory.
    public let layout: RunLayout
    public let model: VAEGAN
    public let optimizers: VAEGANOptimizers
    public let kld: any KLDStrategy
    public let beta: any BetaStrategy
    public let schedule: any TrainingSchedule
    /// The training batches' random transform (`augment:`).
    public let augmentation: any Augmentation
    public let noise: SeededNoise
    public let train: FrameBatches
    public let test: FrameBatches?
    /// Steps completed.
    public private(set) var step: Int = 0
    public private(set) var epoch: Int = 0
    /// Messages about the run (skipped evaluation, resumed from ...), one line each.
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The ranks that train together (one process: `SingleProcess`).
    public let communicator: any Communicator
    /// Steps between comparisons of the ranks' weights (also compared at every checkpoint).
    public var replicaCheckEvery = 50

    private let context: StepContext
    /// What a step draws its noise from: `noise`, or this rank's rows of it.
    private let stepNoise: NoiseSource
    /// Rank 0's metrics log; nil on other ranks.
    private let metrics: MetricsLog?
    private var evaluator: Evaluator
    private var elapsedBefore: Double = 0
    private var startTime = Date()
    private var lastTestPixel: Double?
    /// The step a time budget moved the run's end to (nil: the configured steps).
    private var plannedSteps: Int?

    public var checkpointsDirectory: URL { layout.checkpoints }
    public var latestCheckpoint: URL { layout.latestCheckpoint }
    /// RUN/checkpoints/best-1 ... best-K.
    public var bestCheckpoints: BestCheckpoints { BestCheckpoints(layout: layout, keep: configuration.keepBest) }

    /// Opens the dataset's train and test splits (a test split without frames skips evaluation).
    public convenience init(configuration: TrainingConfiguration, runDirectory: URL, dataset: URL, resume: Bool,
                            communicator: any Communicator = World.communicator) throws {
        var config = configuration
        config.dataset = config.dataset ?? dataset.path
        let train: DatasetLoader
        do {
            train = try DatasetLoader(url: dataset, split: .train, batchSize: config.batch, seed: config.seed, shuffle: true, dropLast: true)
        } catch let error as DatasetError {
            throw TrainingError.data("\(error)")
        }
        var test: DatasetLoader?
        do {
            test = try DatasetLoader(url: dataset, split: .test, batchSize: config.batch, seed: 0, shuffle: false, dropLast: false)
        } catch let error as DatasetError where error.kind == .empty {
            test = nil
        } catch let error as DatasetError {
            throw TrainingError.data("\(error)")
        }
        try self.init(configuration: config, runDirectory: runDirectory, train: train, test: test, resume: resume,
                      communicator: communicator)
        if test == nil, communicator.isRoot { log("note: \(dataset.path) has no test frames; evaluations and best checkpoints are skipped") }
    }

    /// A trainer over any batch sources (tests feed tensors through `TensorBatches`).
    /// - Parameter resume: continue from RUN/checkpoints/latest (a fresh start when there is none).
    ///   Without it, a run directory that already holds a checkpoint is refused.
    public init(configuration: TrainingConfiguration, runDirectory: URL, train: FrameBatches, test: FrameBatches?, resume: Bool,
                communicator: any Communicator = World.communicator) throws {
        try configuration.validate()
        var config = try configuration.resolved()
        let widths = config.model
        guard train.batchSize == config.batch else {
            throw TrainingError.data("the training batches hold \(train.batchSize) frames, the configuration says batch \(config.batch)")
        }
        if train.frameCount < config.batch {
            throw TrainingError.data("the training split has \(train.frameCount) frames, fewer than one batch of \(config.batch)")
        }
        do { try widths.checkFrame(height: train.height, width: train.width) } catch TrainingError.configuration(let reason) {
            throw TrainingError.data("dataset frames: \(reason)")
        }
        if let test, test.height != train.height || test.width != train.width {
            throw TrainingError.data("test frames are \(test.width) x \(test.height), training frames \(train.width) x \(train.height)")
        }
        let layout = RunLayout(runDirectory)
        let latest = layout.latestCheckpoint
        var initial: LoadedModel?
        if let weights = config.initialWeights, !Checkpoint.exists(at: latest) {
            let loaded = try Self.initialModel(weights.path, widths: widths, frame: [train.height, train.width])
            config.initialWeights?.sha256 = try FileDigest.sha256(of: loaded.weights)
            initial = loaded
        }
        self.configuration = config
        self.runDirectory = runDirectory
        self.layout = layout
        self.train = train
        self.test = test
        self.communicator = communicator
        let isRoot = communicator.isRoot

        model = try initial?.model ?? VAEGAN(widths: widths, seed: config.seed)
        model.train()
        optimizers = VAEGANOptimizers(model: model, learningRate: Float(config.learningRate), beta1: Float(config.adamBeta1),
                                      beta2: Float(config.adamBeta2), eps: Float(config.adamEps))
        if let linear = config.learningRates.linear {
            optimizers.scaleRates(of: model.linearPathParameters) { part in Float(linear / (config.baseRate(of: part) ?? linear)) }
        }
        kld = try StrategyRegistry.makeKLD(config.kld)
        beta = try StrategyRegistry.makeBeta(config.beta)
        schedule = try StrategyRegistry.makeSchedule(config.schedule)
        augmentation = try StrategyRegistry.makeAugmentation(config.augment)
        noise = SeededNoise(seed: config.seed &+ 0x0123_4567)
        stepNoise = try Self.splitForRanks(noise, train: train, batch: config.batch, communicator: communicator)
        evaluator = Evaluator(latent: widths.latent, maxFrames: config.evalFrames, fixedLatentCount: config.fixedLatents,
                              fixedLatentSeed: config.fixedLatentSeed, noiseSeed: config.seed &+ 0x5EED)

        let removed = try Self.removeLeftovers(layout, isRoot: isRoot)
        // Resuming: the snapshot is read and checked, and the weights loaded, before anything is
        // written; the snapshot is taken once every property is set.
        let resumed = try Self.resumableState(layout, resume: resume, kld: kld, beta: beta, schedule: schedule, batch: config.batch)
        if resumed != nil { try Checkpoint.restore(from: latest, into: model, optimizers: optimizers) }
        context = StepContext(model: model, optimizers: optimizers, kld: kld, beta: beta,
                              reconstruction: try StrategyRegistry.makeReconstruction(config.reconstruction), stepsDone: resumed?.step ?? 0)
        if communicator.isDistributed { context.gradientReducer = GradientReducer(communicator: communicator) }
        metrics = !isRoot ? nil : try Self.prepareRunDirectory(layout, configuration: config, resumedStep: resumed?.step)
        if let resumed { try restore(resumed) }
        if resumed == nil, initial == nil, config.linearInit == .pca, isRoot { try startLinearPathsAtPCA() }
        if test != nil, isRoot {
            // Fitted once per dataset (cached in the run) and scored at every evaluation.
            do {
                evaluator.baselines = try EvaluationBaselines.fitted(to: train, latent: widths.latent, cache: layout.baselines)
            } catch {
                log("note: evaluations are made without baselines: \(error)")
            }
        }
        try synchronizeReplicas()
        for name in removed { log("removed \(name), left in \(runDirectory.path) by an interrupted write") }
        if let resumed { log("resuming \(runDirectory.path) from step \(resumed.step)") }
    }

    /// `linear_init: pca`: fits a PCA of the latent's size to every training frame (as the
    /// baselines are fitted) and starts the linear paths there (rank 0; the others receive its
    /// weights).
    private func startLinearPathsAtPCA() throws {
        let started = Date()
        guard let pca = try FramePCA.fit(train, components: configuration.model.latent) else {
            throw TrainingError.data("the training split holds NaN or infinite values; linear_init pca cannot fit a PCA")
        }
        model.startLinearPaths(at: pca)
        log(String(format: "linear paths start at a PCA of %d training frames (%d components, fitted in %.1f s)",
                   train.frameCount, pca.count, Date().timeIntervalSince(started)))
    }

    /// Removes what killed writers left (rank 0): temporary files and checkpoint folders
    /// (`.tmp-latest-*`) anywhere in the run, and best-K candidates; returns their names. Throws
    /// when the folder holds a run's history but no checkpoint to continue from.
    private static func removeLeftovers(_ layout: RunLayout, isRoot: Bool) throws -> [String] {
        let removed = !isRoot ? [] : AtomicFile.removeTemporaries(under: layout.root)
            + Checkpoint.removeTemporaries(in: layout.checkpoints, prefixes: BestCheckpoints.leftoverPrefixes)
        if !Checkpoint.exists(at: layout.latestCheckpoint), let history = history(of: layout) {
            throw TrainingError.checkpoint("\(layout.root.path) holds a run's history (\(history)) but no checkpoint to continue from (checkpoints/latest/state.json is missing); nothing was changed. Pass --restart to move it aside and start afresh, or choose another --out")
        }
        return removed
    }

    /// The noise a step draws: `noise`, or, data-parallel, this rank's rows of each global batch
    /// (and `train` reads this rank's rows).
    private static func splitForRanks(_ noise: SeededNoise, train: FrameBatches, batch: Int,
                                      communicator: any Communicator) throws -> NoiseSource {
        guard communicator.isDistributed else { return noise }
        let split: BatchSplit
        do { split = try BatchSplit(global: batch, ranks: communicator.size) } catch {
            throw TrainingError.configuration("\(error)")
        }
        train.rows = split.rows(of: communicator.rank)
        return RowsOfGlobalNoise(noise, globalBatch: batch, rows: split.rows(of: communicator.rank))
    }

    /// The snapshot of RUN/checkpoints/latest to resume from (nil: a fresh start), checked against
    /// the configured strategies and batch before anything is restored. A checkpoint without
    /// `resume` is refused.
    private static func resumableState(_ layout: RunLayout, resume: Bool, kld: any KLDStrategy, beta: any BetaStrategy,
                                       schedule: any TrainingSchedule, batch: Int) throws -> CheckpointState? {
        let latest = layout.latestCheckpoint
        guard Checkpoint.exists(at: latest) else { return nil }
        guard resume else {
            throw TrainingError.configuration("\(layout.root.path) already holds a run (checkpoints/latest); pass --resume to continue it or choose another --out")
        }
        let state = try Checkpoint.readState(latest)
        guard state.kld.name == kld.name, state.beta.name == beta.name, state.schedule == schedule.name else {
            throw TrainingError.checkpoint("\(latest.path): saved with kld '\(state.kld.name)', beta '\(state.beta.name)', schedule '\(state.schedule)'; the configuration names '\(kld.name)', '\(beta.name)', '\(schedule.name)'")
        }
        guard state.batch == batch else {
            throw TrainingError.checkpoint("\(latest.path): saved with batch \(state.batch), the configuration says \(batch)")
        }
        return state
    }

    /// The trainer's state now, as a checkpoint saves it (one value; the weights and optimizer
    /// moments are saved beside it). `testPixel`: the test pixel error of an evaluation at this step.
    public func snapshot(testPixel: Double?) -> CheckpointState {
        CheckpointState(step: step, epoch: epoch, elapsed: elapsed, widths: model.widths, batch: configuration.batch,
                        kld: StrategySnapshot(name: kld.name, state: kld.saveState()),
                        beta: StrategySnapshot(name: beta.name, state: beta.saveState()), betaValue: beta.beta,
                        schedule: schedule.name, noiseGenerator: noise.generator.state.map { String($0, radix: 16) },
                        loader: train.position, testPixel: testPixel, plannedSteps: plannedSteps)
    }

    /// Takes the state of a snapshot (the inverse of `snapshot`): step, epoch, run time, the
    /// strategies' states, the noise generator and the loader's position.
    private func restore(_ state: CheckpointState) throws {
        try kld.loadState(state.kld.state)
        try beta.loadState(state.beta.state)
        noise.generator.state = state.noiseGenerator.map { UInt64($0, radix: 16)! }
        train.position = state.loader
        step = state.step
        epoch = state.epoch
        elapsedBefore = state.elapsed
        lastTestPixel = state.testPixel
        plannedSteps = state.plannedSteps
    }

    /// Rank 0's setup of the run folder: creates it, writes config.json (a fresh run) and opens
    /// metrics.csv (trimmed to `resumedStep`'s rows when resuming).
    private static func prepareRunDirectory(_ layout: RunLayout, configuration: TrainingConfiguration,
                                            resumedStep: Int?) throws -> MetricsLog {
        do {
            try FileManager.default.createDirectory(at: layout.root, withIntermediateDirectories: true)
            if resumedStep == nil { try AtomicFile.write(Checkpoint.encodeJSON(configuration), to: layout.configuration) }
        } catch {
            throw TrainingError.io("\(layout.root.path): \(error.localizedDescription)")
        }
        return try MetricsLog(url: layout.metrics, keepThroughStep: resumedStep ?? 0)
    }

    /// Makes every rank start from rank 0's weights, and checks that every rank resumed from the
    /// same step with the same optimizer state (a run directory every rank can read). Collective.
    private func synchronizeReplicas() throws {
        guard communicator.isDistributed else { return }
        let steps = communicator.gather(UInt64(step))
        if let other = steps.indices.first(where: { steps[$0] != steps[0] }) {
            throw TrainingError.checkpoint("rank \(other) starts at step \(steps[other]), rank 0 at step \(steps[0]): every rank must read the same \(runDirectory.path) (a shared filesystem)")
        }
        Replicas.broadcast(model.stateTensors().map(\.1), over: communicator)
        try checkReplicas()
    }

    /// Every tensor the ranks must hold identically: the model's parameters and running
    /// statistics, and the optimizers' state.
    private var replicatedTensors: [Tensor] {
        model.stateTensors().map(\.1) + optimizers.named.flatMap { $0.1.stateTensors().map(\.1) }
    }

    /// Throws, naming the ranks, when any rank's weights or optimizer state differ from rank 0's
    /// (or its beta). Collective.
    private func checkReplicas() throws {
        guard communicator.isDistributed else { return }
        // beta's exact bits, as two floats' bit patterns.
        let bits = beta.beta.bitPattern
        let betaBits = Tensor(shape: [2], values: [Float(bitPattern: UInt32(truncatingIfNeeded: bits)), Float(bitPattern: UInt32(bits >> 32))])
        let divergent = Replicas.divergentRanks(replicatedTensors + [betaBits], over: communicator)
        guard divergent.isEmpty else {
            throw TrainingError.divergence("at step \(step), rank \(divergent.map(String.init).joined(separator: ", rank ")) hold\(divergent.count == 1 ? "s" : "") weights or optimizer state that differ from rank 0's; stopping")
        }
    }

    /// What in `runDirectory` shows that a run already trained there (metric rows, checkpoint
    /// folders), described for an error message; nil for a new or empty folder.
    static func history(of layout: RunLayout) -> String? {
        var found: [String] = []
        if let text = try? String(contentsOf: layout.metrics, encoding: .utf8) {
            let rows = text.split(separator: "\n").count - 1
            if rows > 0 { found.append("\(RunLayout.metricsName) with \(rows) rows") }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.checkpoints.path)) ?? []
        let leftovers = [".tmp-"] + BestCheckpoints.leftoverPrefixes
        let folders = names.filter { name in !leftovers.contains { name.hasPrefix($0) } }.sorted()
        let prefix = RunLayout.checkpointsName + "/"
        if !folders.isEmpty { found.append(prefix + folders.joined(separator: ", " + prefix)) }
        return found.isEmpty ? nil : found.joined(separator: "; ")
    }

    /// Moves a run directory aside to `RUN.old-YYYYMMDD-HHMMSS` (`--restart`); returns where.
    public static func moveAside(_ runDirectory: URL) throws -> URL {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let base = runDirectory.standardizedFileURL
        var target = URL(fileURLWithPath: base.path + ".old-" + formatter.string(from: Date()))
        var n = 1
        while FileManager.default.fileExists(atPath: target.path) { n += 1; target = URL(fileURLWithPath: base.path + ".old-\(formatter.string(from: Date()))-\(n)") }
        do { try FileManager.default.moveItem(at: base, to: target) } catch {
            throw TrainingError.io("\(base.path): cannot move it aside to \(target.path): \(error.localizedDescription)")
        }
        return target
    }

    /// The model of `path` (`LoadedModel`: a run, a checkpoint or a bare state dict) for a fresh
    /// run of `widths`; widths that differ are an error naming the file and both widths.
    static func initialModel(_ path: String, widths: ModelWidths, frame: [Int]) throws -> LoadedModel {
        let loaded = try LoadedModel(URL(fileURLWithPath: path), frame: frame)
        guard loaded.widths == widths else {
            throw TrainingError.configuration("\(path): the initial weights have widths \(Checkpoint.describeWidths(loaded.widths)), the configured model \(Checkpoint.describeWidths(widths)); set model (or preset) to match")
        }
        return loaded
    }

    /// The total steps a run goes to: `steps`, else `epochs` x batches per epoch, else 10,000.
    public var defaultTargetSteps: Int {
        if let s = configuration.steps { return s }
        if let e = configuration.epochs { return e * max(1, train.batchesPerEpoch) }
        return 10_000
    }

    private var elapsed: Double { elapsedBefore + Date().timeIntervalSince(startTime) }

    /// Trains until `targetSteps` steps are done in total (default `defaultTargetSteps`, or fewer
    /// where the configuration's `minutes` do not allow them: `TimeBudget`), evaluating every
    /// `eval_every` steps and at the end, checkpointing at each evaluation (and every
    /// `checkpoint_every` steps) and at the end.
    ///
    /// - Parameters:
    ///   - progress: called after every step.
    ///   - shouldStop: polled after every step; when it returns true the run writes a checkpoint
    ///     and returns with `stoppedEarly` (a later `--resume` continues exactly).
    /// - Throws: `TrainingError.nonFinite` when a loss is NaN or infinite (the checkpoint on disk
    ///   is the last good one), `TrainingError.io` when a checkpoint cannot be written.
    @discardableResult
    public func run(targetSteps: Int? = nil, progress: ((TrainingProgress) -> Void)? = nil,
                    shouldStop: () -> Bool = { false }) throws -> TrainingSummary {
        let configured = targetSteps ?? defaultTargetSteps
        var target = min(configured, plannedSteps ?? configured)
        let budget = configuration.minutes.map(TimeBudget.init(minutes:))
        var timedFrom: (step: Int, elapsed: Double)?
        var closingSeconds = 0.0
        startTime = Date()
        var lastEvaluation: EvaluationResult?
        var best: Double?
        var stepSeconds: Double?
        var checkpointedAt = Checkpoint.exists(at: latestCheckpoint) ? step : -1
        while step < target {
            let began = Date()
            let (images, position) = try train.nextBatch()
            let firstRow = train.rows?.lowerBound ?? 0
            augmentation.apply(to: images, draws: AugmentationDraw.batch(seed: configuration.seed, epoch: position.epoch, index: position.index,
                                                                        rows: firstRow..<(firstRow + images.shape[0])))
            for (part, optimizer) in optimizers.named {
                optimizer.learningRate = Float(configuration.learningRate(of: part, stepsDone: step, totalSteps: target))
            }
            let result = try GlobalBatch.spanning(communicator.isDistributed ? communicator : nil) {
                try schedule.run(context, images: images, noise: stepNoise)
            }
            step += 1
            epoch = position.epoch
            try metrics?.appendTrain(time: elapsed, step: step, epoch: epoch, result: result)
            if let (name, value) = result.firstNonFiniteLoss {
                throw TrainingError.nonFinite(step: step, loss: name, value: value)
            }
            if let budget {
                let from = timedFrom ?? (step, elapsed)
                timedFrom = from
                // Every rank plans at the same steps (rank 0's plan is broadcast).
                if step > from.step, (step - from.step) % TimeBudget.calibrationSteps == 0 {
                    target = replan(budget, step: step, target: target, configured: configured, since: from, reserve: closingSeconds)
                    plannedSteps = target < configured ? target : nil
                }
            }
            var evaluation: EvaluationResult?
            if step % configuration.evalEvery == 0 || step == target, communicator.isRoot, let test {
                let e = try evaluate(test)
                evaluation = e
                lastEvaluation = e
                best = min(best ?? e.pixelMSE, e.pixelMSE)
                lastTestPixel = e.pixelMSE
            }
            let seconds = Date().timeIntervalSince(began)
            stepSeconds = stepSeconds.map { 0.8 * $0 + 0.2 * seconds } ?? seconds
            // A stop seen by any rank stops every rank after the same step.
            let stop = communicator.any(shouldStop())
            let periodic = configuration.checkpointEvery > 0 && step % configuration.checkpointEvery == 0
            let evaluationStep = test != nil && (step % configuration.evalEvery == 0 || step == target)
            let checkpointing = evaluationStep || periodic || step == target || stop
            if checkpointing || (communicator.isDistributed && step % max(replicaCheckEvery, 1) == 0) { try checkReplicas() }
            if checkpointing {
                try writeLatest(testPixel: evaluation?.pixelMSE)
                checkpointedAt = step
                if let evaluation, communicator.isRoot { try bestCheckpoints.offer(latest: latestCheckpoint, pixel: evaluation.pixelMSE, step: step) }
                // The other ranks wait here, without spinning, while rank 0 evaluates and writes.
                communicator.barrier()
            }
            if evaluation != nil { closingSeconds = Date().timeIntervalSince(began) }
            progress?(TrainingProgress(step: step, targetSteps: target, epoch: epoch,
                                       imagesPerSecond: Double(images.shape[0]) / max(stepSeconds ?? 1, 1e-9),
                                       secondsRemaining: Double(target - step) * (stepSeconds ?? 0),
                                       losses: result.losses, beta: result.beta, evaluation: evaluation))
            if stop {
                return TrainingSummary(steps: step, stoppedEarly: step < target, lastEvaluation: lastEvaluation, bestTestPixel: best)
            }
        }
        if checkpointedAt != step { try writeLatest(testPixel: nil); communicator.barrier() }
        return TrainingSummary(steps: step, stoppedEarly: false, lastEvaluation: lastEvaluation, bestTestPixel: best)
    }

    /// The step `budget` lets the run end at (at most `configured`), from the rate of the steps
    /// since `since`, keeping `reserve` seconds for the last evaluation; rank 0's plan, which every
    /// rank follows. `target` is the end planned before.
    private func replan(_ budget: TimeBudget, step: Int, target: Int, configured: Int, since: (step: Int, elapsed: Double),
                        reserve: Double) -> Int {
        let perStep = (elapsed - since.elapsed) / Double(step - since.step)
        var planned = budget.lastStep(step: step, target: configured, elapsed: elapsed, secondsPerStep: perStep, reserve: reserve)
        withUnsafeMutableBytes(of: &planned) { communicator.broadcast($0, root: 0) }
        // Logged when the end first moves, and then when it moves by more than 2% at once.
        if planned != target, plannedSteps == nil || Double(abs(target - planned)) > 0.02 * Double(target) {
            log(String(format: "time budget: %.1f of %.1f min spent at %.2f s a step; the run ends at step %d instead of %d",
                        elapsed / 60, budget.seconds / 60, perStep, planned, target))
        }
        return planned
    }

    /// Evaluates now on the test split and records it (JSON, CSV test row, sample PNGs).
    @discardableResult
    public func evaluate(_ test: FrameBatches) throws -> EvaluationResult {
        let result = try evaluator.evaluate(model: model, test: test, kld: kld, beta: beta, step: step, epoch: epoch,
                                            samplesDirectory: layout.samples)
        let dir = layout.evaluations
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try AtomicFile.write(result.encoded(), to: layout.evaluation(step: step))
        } catch {
            throw TrainingError.io("\(dir.path): \(error.localizedDescription)")
        }
        try metrics?.appendTest(time: elapsed, evaluation: result, kldName: kld.name)
        return result
    }

    /// Writes checkpoints/latest now (rank 0; other ranks write nothing).
    /// The metrics rows through this step are flushed to disk first: a resume from this
    /// checkpoint finds every row it keeps (MetricsLog's crash safety).
    public func writeLatest(testPixel: Double? = nil) throws {
        guard communicator.isRoot else { return }
        try metrics?.sync()
        try Checkpoint.write(to: latestCheckpoint, model: model, optimizers: optimizers,
                             state: snapshot(testPixel: testPixel), configuration: configuration)
    }
}
