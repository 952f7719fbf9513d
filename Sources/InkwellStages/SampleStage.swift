import Foundation
import InkwellPipeline
import InkwellTraining

/// `sample`: fakes from a trained model (a run's latest checkpoint, or the `model` parameter's
/// run, checkpoint or bare `.safetensors` state dict), decoded from `count` latents drawn with
/// `seed` (seed 0: training's fixed latents); `inkwell sample` as a pipeline stage.
public struct SampleStage: Stage {
    public static let kind = "sample"
    public static let version = 1
    public static let documentation = """
        Decodes 'count' latents drawn with 'seed' (seed 0 gives training's fixed latents) into \
        fake images: samples/sample-00000.png, ..., samples/contact-sheet.png and the latents as \
        samples/latents.npy ((count, latent) float32), from the run's latest checkpoint or the \
        'model' parameter's run, checkpoint or bare .safetensors state dict.
        """
    public static let inputs = [
        StageModelSource.input,
    ]
    public static let outputs = [
        PortSpec("images", .images, path: "samples", "the fakes as PNG, a contact sheet, and latents.npy"),
    ]
    public static let parameters = [
        StageModelSource.parameter,
        ParameterSpec("count", .int, default: .int(32), "fakes to decode", check: ParameterSpec.range(1, 65536)),
        ParameterSpec("seed", .int, default: .int(0), "seed of the latents", check: ParameterSpec.range(0, nil)),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        let source = try StageModelSource.url(context)
        let loaded = try LoadedModel(source)
        let z = Inference.drawnLatents(count: p.int("count"), latent: loaded.widths.latent, seed: UInt64(p.int("seed")))
        try Inference.writeSamples(loaded.model, latents: z, to: context.output("images"))
        context.logger.info("\(p.int("count")) samples of \(source.path) in \(context.output("images").path)")
    }
}
