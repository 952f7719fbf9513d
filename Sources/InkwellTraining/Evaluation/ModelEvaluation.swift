import Foundation
import InkwellFiles

/// The evaluation training runs, on a loaded model and any frames (`inkwell evaluate`, the
/// evaluate stage): `evaluation.json` and the fake and reconstruction grids.
public struct ModelEvaluation {
    /// Test frames evaluated at most (0: all).
    public var frames = 0
    /// Fixed latents decoded into fakes, and the seed they are drawn with (32 and 0, as in training).
    public var fixedLatents = 32
    public var latentSeed: UInt64 = 0

    public init() {}

    /// Evaluates `loaded` on `frames` (position reset to the start) with the strategies it was
    /// trained with; writes the result as JSON to `evaluationFile` and the grids into
    /// `samplesDirectory`. The step recorded is the checkpoint's (0 for a bare file). With
    /// `reference` (the training split) the result holds the baselines' scores and the Fréchet
    /// distance of fakes; the fit the model's run cached is reused when it fits those frames.
    @discardableResult
    public func run(_ loaded: LoadedModel, on test: FrameBatches, reference: FrameBatches? = nil,
                    evaluationFile: URL, samplesDirectory: URL) throws -> EvaluationResult {
        let (kld, beta) = try loaded.strategies()
        do { try FileManager.default.createDirectory(at: samplesDirectory, withIntermediateDirectories: true) } catch {
            throw TrainingError.io("\(samplesDirectory.path): \(error.localizedDescription)")
        }
        var evaluator = Evaluator(latent: loaded.widths.latent, maxFrames: frames, fixedLatentCount: fixedLatents,
                                  fixedLatentSeed: latentSeed)
        if let reference, reference.frameCount >= 2 {
            let run = loaded.checkpoint?.deletingLastPathComponent().deletingLastPathComponent()
            evaluator.baselines = try? EvaluationBaselines.fitted(to: reference, latent: loaded.widths.latent,
                                                                  cache: run.map { RunLayout($0).baselines }, updateCache: false)
        }
        let result = try evaluator.evaluate(model: loaded.model, test: test, kld: kld, beta: beta, step: loaded.step,
                                            epoch: loaded.state?.epoch ?? 0, samplesDirectory: samplesDirectory)
        loaded.model.eval()
        do {
            try AtomicFile.write(try result.encoded(), to: evaluationFile)
        } catch let error as FileWriteError {
            throw TrainingError.io("\(error.path): \(error.reason)")
        }
        return result
    }
}
