import ArgumentParser
import Foundation
import Inkwell

/// `inkwell evaluate --model M --data DATASET --out DIR [--split test|train]`: the evaluation that
/// training runs (pixel error, PSNR, KLD by every strategy, latent statistics, diversity,
/// collapse) on a dataset split, written as DIR/evaluation.json and DIR/samples/ (fake and
/// reconstruction grids).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a model on a dataset split as training does; write evaluation.json and the sample grids.",
        discussion: "The frames are read in dataset order, --batch at a time; reconstructions decode the posterior means. A bare state dict is evaluated with the default KLD and beta strategies (moving-batch, dual-gradient) and step 0."
    )

    @Option(help: ModelCommandSupport.modelHelp)
    var model: String

    @Option(help: "The dataset directory (made by `inkwell ingest`).")
    var data: String

    @Option(help: "The folder to write evaluation.json and samples/ into.")
    var out: String

    @Option(help: "The split evaluated: test or train.")
    var split = "test"

    @Option(help: "Frames evaluated at most (0: the whole split).")
    var frames = 0

    @Option(help: "Frames per forward pass.")
    var batch = Inference.batch

    @Option(help: "Fixed latents decoded into the fake grid.")
    var fixedLatents = 32

    @Option(help: "Seed of the fixed latents.")
    var latentSeed: UInt64 = 0

    func validate() throws {
        try ModelCommandSupport.requireExisting(model, option: "--model")
        try ModelCommandSupport.requireExisting(data, option: "--data")
        _ = try ModelCommandSupport.split(split)
        try ModelCommandSupport.requireWritableFolder(out, option: "--out")
        guard frames >= 0 else { throw ValidationError("--frames \(frames): must not be negative") }
        guard batch >= 1 else { throw ValidationError("--batch \(batch): must be at least 1") }
        guard fixedLatents >= 1 else { throw ValidationError("--fixed-latents \(fixedLatents): must be at least 1") }
    }

    func run() throws {
        try ModelCommandSupport.run("evaluate") {
            let loader = try ModelCommandSupport.openSplit(data, try ModelCommandSupport.split(split), batch: batch)
            let loaded = try LoadedModel(URL(fileURLWithPath: model), frame: [loader.height, loader.width])
            var evaluation = ModelEvaluation()
            evaluation.frames = frames
            evaluation.fixedLatents = fixedLatents
            evaluation.latentSeed = latentSeed
            let folder = URL(fileURLWithPath: out)
            let file = folder.appendingPathComponent("evaluation.json")
            let reference = try? ModelCommandSupport.openSplit(data, .train, batch: batch)
            let result = try evaluation.run(loaded, on: loader, reference: reference, evaluationFile: file,
                                            samplesDirectory: folder.appendingPathComponent("samples"))
            print(String(format: "%@: %d %@ frames, pixel MSE %.6g, PSNR %.4f dB, feats %.5g, diversity %.3f, collapsed %.2f",
                         file.path, result.frames, split, result.pixelMSE, result.psnr, result.feats, result.diversity.ratio,
                         result.collapsedFraction))
            if let summary = result.baselineSummary { print(summary) }
        }
    }
}
