import Foundation
import InkwellDataset
import InkwellPipeline
import InkwellTraining

/// `evaluate`: evaluates a trained model on a dataset's test split with InkwellTraining's
/// `Evaluator`: pixel MSE and PSNR of reconstructions, KLD under every KLD strategy, feature error,
/// losses, latent statistics (per-dimension moments, distance histogram beside the chi density),
/// fake diversity and the collapsed fraction; writes the result as JSON and the fake and
/// reconstruction grids as PNG.
public struct EvaluateStage: Stage {
    public static let kind = "evaluate"
    public static let version = 2
    public static let documentation = """
        Evaluates a run's checkpoint (or the 'model' parameter's run, checkpoint or bare \
        .safetensors state dict) on the dataset's test split (all of it by default): pixel \
        error, PSNR, KLD by every strategy, latent statistics against N(0, I), fake diversity and \
        collapsed fraction. Writes evaluation.json and samples/ (fakes from 32 fixed latents, \
        reconstructions beside originals).
        """
    public static let inputs = [
        StageModelSource.input,
        PortSpec("data", .dataset, "the dataset whose test split is evaluated"),
    ]
    public static let outputs = [
        PortSpec("evaluation", .metrics, path: "evaluation.json", "the evaluation (EvaluationResult; schema in docs/RUN-DIRECTORY.md)"),
        PortSpec("images", .images, path: "samples", "fake and reconstruction grids (PNG)"),
    ]
    public static let parameters = [
        StageModelSource.parameter,
        ParameterSpec("frames", .int, default: .int(0), "test frames evaluated at most (0: the whole split)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("batch", .int, default: .int(64), "frames per forward pass", check: ParameterSpec.range(1, 65536)),
        ParameterSpec("fixed_latents", .int, default: .int(32), "fixed latent samples decoded into fakes", check: ParameterSpec.range(1, 4096)),
        ParameterSpec("latent_seed", .int, default: .int(0), "seed of the fixed latents", check: ParameterSpec.range(0, nil)),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        let source = try StageModelSource.url(context)
        let dataset = try context.input("data").url
        let test: DatasetLoader
        do {
            test = try DatasetLoader(url: dataset, split: .test, batchSize: p.int("batch"), seed: 0, shuffle: false, dropLast: false)
        } catch let error as DatasetError where error.kind == .empty {
            throw StageError("\(error)")  // it names the dataset, and why the split is empty
        } catch {
            throw StageError("\(dataset.path): cannot read the test split: \(error)")
        }
        let loaded = try LoadedModel(source, frame: [test.height, test.width])
        let evaluated = p.int("frames") > 0 ? min(p.int("frames"), test.frameCount) : test.frameCount
        context.progress.update(nil, "evaluating step \(loaded.step) on \(evaluated == test.frameCount ? "" : "\(evaluated) of ")\(test.frameCount) test frames")
        var evaluation = ModelEvaluation()
        evaluation.frames = p.int("frames")
        evaluation.fixedLatents = p.int("fixed_latents")
        evaluation.latentSeed = UInt64(p.int("latent_seed"))
        // The training split, for the baselines (mean frame, PCA) and the Fréchet embedding.
        let train = try? DatasetLoader(url: dataset, split: .train, batchSize: p.int("batch"), seed: 0, shuffle: false, dropLast: false)
        let result = try evaluation.run(loaded, on: test, reference: train, evaluationFile: context.output("evaluation"),
                                        samplesDirectory: context.output("images"))
        context.logger.info(String(format: "step %d: pixel MSE %.5f, PSNR %.2f dB, diversity ratio %.3f, collapsed fraction %.2f",
                                   result.step, result.pixelMSE, result.psnr, result.diversity.ratio, result.collapsedFraction))
        if let summary = result.baselineSummary { context.logger.info(summary) }
    }
}
