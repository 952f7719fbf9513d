import Foundation
import InkwellDataset
import InkwellPipeline
import InkwellTraining
import InkwellFiles

/// `evaluate`: evaluates a trained model on a dataset's test split with InkwellTraining's
/// `Evaluator`: pixel MSE and PSNR of reconstructions, KLD under every KLD strategy, feature error,
/// losses, latent statistics (per-dimension moments, distance histogram beside the chi density),
/// fake diversity and the collapsed fraction; writes the result as JSON and the fake and
/// reconstruction grids as PNG.
public struct EvaluateStage: Stage {
    public static let kind = "evaluate"
    public static let version = 1
    public static let documentation = """
        Evaluates a run's checkpoint on the dataset's test split (all of it by default): pixel \
        error, PSNR, KLD by every strategy, latent statistics against N(0, I), fake diversity and \
        collapsed fraction. Writes evaluation.json and samples/ (fakes from 32 fixed latents, \
        reconstructions beside originals).
        """
    public static let inputs = [
        PortSpec("run", .checkpoint, "a training run directory (or a checkpoint folder)"),
        PortSpec("data", .dataset, "the dataset whose test split is evaluated"),
    ]
    public static let outputs = [
        PortSpec("evaluation", .metrics, path: "evaluation.json", "the evaluation (notes/contracts.md's evaluation schema)"),
        PortSpec("images", .images, path: "samples", "fake and reconstruction grids (PNG)"),
    ]
    public static let parameters = [
        ParameterSpec("frames", .int, default: .int(0), "test frames evaluated at most (0: the whole split)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("batch", .int, default: .int(64), "frames per forward pass", check: ParameterSpec.range(1, 65536)),
        ParameterSpec("fixed_latents", .int, default: .int(32), "fixed latent samples decoded into fakes", check: ParameterSpec.range(1, 4096)),
        ParameterSpec("latent_seed", .int, default: .int(0), "seed of the fixed latents", check: ParameterSpec.range(0, nil)),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        var checkpoint = try context.input("run").url
        if !Checkpoint.exists(at: checkpoint) { checkpoint = checkpoint.appendingPathComponent("checkpoints/latest") }
        guard Checkpoint.exists(at: checkpoint) else {
            throw StageError("\(checkpoint.path): no checkpoint (model.safetensors and state.json)")
        }
        let model = try VAEGAN.load(checkpoint: checkpoint)
        let state = try Checkpoint.readState(checkpoint)
        let configuration = try? Checkpoint.readConfiguration(checkpoint)
        let kld = try StrategyRegistry.makeKLD(configuration?.kld ?? InkwellTraining.StrategyChoice(name: state.kld.name))
        try kld.loadState(state.kld.state)
        let beta = try StrategyRegistry.makeBeta(configuration?.beta ?? InkwellTraining.StrategyChoice(name: state.beta.name))
        try beta.loadState(state.beta.state)

        let dataset = try context.input("data").url
        let test: DatasetLoader
        do {
            test = try DatasetLoader(url: dataset, split: .test, batchSize: p.int("batch"), seed: 0, shuffle: false, dropLast: false)
        } catch {
            throw StageError("\(dataset.path): cannot read the test split: \(error)")
        }
        context.progress.update(nil, "evaluating step \(state.step) on \(test.frameCount) test frames")
        let samples = context.output("images")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        let evaluator = Evaluator(latent: model.widths.latent, maxFrames: p.int("frames"), fixedLatentCount: p.int("fixed_latents"),
                                  fixedLatentSeed: UInt64(p.int("latent_seed")))
        let result = try evaluator.evaluate(model: model, test: test, kld: kld, beta: beta, step: state.step, epoch: state.epoch,
                                            samplesDirectory: samples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(result), to: context.output("evaluation"))
        context.logger.info(String(format: "step %d: pixel MSE %.5f, PSNR %.2f dB, diversity ratio %.3f, collapsed fraction %.2f",
                                   result.step, result.pixelMSE, result.psnr, result.diversity.ratio, result.collapsedFraction))
    }
}
