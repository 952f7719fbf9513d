import Foundation
import InkwellPipeline

/// How the stages that use a trained model (evaluate, sample) find it: their optional `run` input,
/// else their `model` parameter (a run directory, a checkpoint folder or a bare `.safetensors`
/// state dict; `LoadedModel` reads all three).
enum StageModelSource {
    /// The `run` input port, optional so that the `model` parameter can stand in for it.
    static let input = PortSpec("run", .checkpoint, optional: true, "a training run directory or a checkpoint folder (or give 'model')")

    /// The `model` parameter.
    static let parameter = ParameterSpec("model", .path, default: .string(""),
                                         "a run directory, checkpoint folder or bare .safetensors state dict, when no 'run' input is bound")

    /// The bound `run` input, else the `model` parameter; an error when neither is given.
    static func url(_ context: StageContext) throws -> URL {
        if let run = context.inputs["run"]?.url { return run }
        guard let model = context.parameters.optionalString("model") else {
            throw StageError("no model: bind the 'run' input or set the 'model' parameter")
        }
        return URL(fileURLWithPath: model)
    }
}
