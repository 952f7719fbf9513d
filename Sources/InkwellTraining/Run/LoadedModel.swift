import Foundation
import InkwellEngine
import InkwellNN

/// A trained model read from wherever a model is expected (`--model`, `train --init`, the
/// evaluate and export stages), in evaluation mode. Accepts:
/// - a run directory (its `checkpoints/latest`);
/// - a checkpoint folder (`model.safetensors` + `state.json`);
/// - a bare `.safetensors` state dict with the reference PyTorch names, its widths inferred from
///   the tensor shapes (`ModelWidths.infer(from:frame:)`).
///
/// A missing `num_batches_tracked` reads as 0. A file that fits no model is one error listing
/// every missing, unexpected or mis-shaped tensor.
public struct LoadedModel {
    public let model: VAEGAN
    /// The safetensors file the weights came from.
    public let weights: URL
    /// The checkpoint folder, when the model came from one (a run directory's latest included).
    public let checkpoint: URL?
    /// The checkpoint's state.json and config.json, when there are ones.
    public let state: CheckpointState?
    public let configuration: TrainingConfiguration?

    /// Loads `url`. `frame` ([height, width]) is the size of the frames the model will see (a
    /// dataset's): it settles the feature map of a bare file without metadata, and widths that do
    /// not fit it are an error naming `url`.
    public init(_ url: URL, frame: [Int]? = nil) throws {
        if let dir = try Self.checkpointFolder(url) {
            let state = try Checkpoint.readState(dir)
            let model = try VAEGAN(widths: state.widths)
            try Checkpoint.restore(from: dir, into: model, optimizers: nil)
            self.init(model: model, weights: Checkpoint.existing(dir)!.appendingPathComponent(Checkpoint.modelFile), checkpoint: dir,
                      state: state, configuration: try? Checkpoint.readConfiguration(dir))
        } else {
            let file = try Self.open(url)
            let model = try VAEGAN(widths: try ModelWidths.infer(from: file, frame: frame))
            try model.loadWeights(file)
            self.init(model: model, weights: url, checkpoint: nil, state: nil, configuration: nil)
        }
        model.eval()
        if let frame { try checkFrame(frame, source: url) }
    }

    private init(model: VAEGAN, weights: URL, checkpoint: URL?, state: CheckpointState?, configuration: TrainingConfiguration?) {
        self.model = model
        self.weights = weights
        self.checkpoint = checkpoint
        self.state = state
        self.configuration = configuration
    }

    /// The model's widths.
    public var widths: ModelWidths { model.widths }
    /// Training steps behind the weights (0 for a bare file).
    public var step: Int { state?.step ?? 0 }

    /// The checkpoint folder `url` names (itself, or a run directory's latest), nil for a file.
    static func checkpointFolder(_ url: URL) throws -> URL? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TrainingError.checkpoint("\(url.path): no such model (give a run directory, a checkpoint folder or a .safetensors file)")
        }
        guard isDirectory.boolValue else { return nil }
        if Checkpoint.exists(at: url) { return url }
        let latest = RunLayout(url).latestCheckpoint
        guard Checkpoint.exists(at: latest) else {
            throw TrainingError.checkpoint("\(url.path): neither a checkpoint folder (state.json) nor a run directory with checkpoints/latest")
        }
        return latest
    }

    /// The safetensors file at `url`, or an error naming it.
    static func open(_ url: URL) throws -> SafeTensorsFile {
        do { return try SafeTensorsFile(contentsOf: url) } catch let error as SafeTensorsError {
            throw TrainingError.checkpoint("\(error)")
        }
    }

    /// Checks the widths fit frames of `frame` ([height, width]); the error names `source`.
    public func checkFrame(_ frame: [Int], source: URL) throws {
        do { try widths.checkFrame(height: frame[0], width: frame[1]) } catch TrainingError.configuration(let reason) {
            throw TrainingError.checkpoint("\(source.path): the model does not fit the frames: \(reason)")
        }
    }

    /// The KLD and beta strategies the model was trained with, in their saved states (fresh
    /// defaults, moving-batch and dual-gradient, for a bare file).
    public func strategies() throws -> (kld: any KLDStrategy, beta: any BetaStrategy) {
        let kld = try StrategyRegistry.makeKLD(configuration?.kld ?? StrategyChoice(name: state?.kld.name ?? MovingBatchKLD.name))
        let beta = try StrategyRegistry.makeBeta(configuration?.beta ?? StrategyChoice(name: state?.beta.name ?? DualGradientBeta.name))
        if let state {
            try kld.loadState(state.kld.state)
            try beta.loadState(state.beta.state)
        }
        return (kld, beta)
    }
}

extension VAEGAN {
    /// Loads a model from a run directory, a checkpoint folder or a bare `.safetensors` file
    /// (`LoadedModel`), in evaluation mode.
    public static func load(_ url: URL, frame: [Int]? = nil) throws -> VAEGAN {
        try LoadedModel(url, frame: frame).model
    }

    /// Copies the weights of `file` (reference names; counters optional, missing ones read as 0)
    /// into this model; one error lists every tensor that does not fit.
    func loadWeights(_ file: SafeTensorsFile) throws {
        do { try loadState(from: file, options: StateLoadOptions(allowMissingCounters: true)) } catch let error as SafeTensorsError {
            throw TrainingError.checkpoint("\(error)")
        }
    }
}
