import Foundation
import InkwellDataset
import InkwellEngine
import InkwellFiles
import InkwellNN

/// A strategy's name and saved state inside a checkpoint.
public struct StrategySnapshot: Codable, Equatable, Sendable {
    public var name: String
    public var state: StrategyState
    public init(name: String, state: StrategyState) { self.name = name; self.state = state }
}

/// The trainer's state snapshot, saved as a checkpoint's state.json: everything besides the
/// weights and the optimizer moments that resuming needs to continue exactly. Saving is one
/// value out (`Trainer.snapshot`), resuming one value in (`Trainer.restore`); the format stays
/// the one checkpoints have always had, so older checkpoints resume.
public struct CheckpointState: Codable, Equatable, Sendable {
    public var format = 1
    /// Training steps completed.
    public var step: Int
    /// The epoch of the last batch trained on.
    public var epoch: Int
    /// Seconds of run time before this checkpoint (the CSV's `time` continues from here).
    public var elapsed: Double
    /// The model's widths (a resumed run's configuration must match).
    public var widths: ModelWidths
    public var batch: Int
    public var kld: StrategySnapshot
    public var beta: StrategySnapshot
    /// beta after the last step.
    public var betaValue: Double
    public var schedule: String
    /// The step-noise generator's state words, as hex (exact).
    public var noiseGenerator: [String]
    /// The position of the next training batch.
    public var loader: BatchPosition
    /// The test pixel error of the evaluation at this step, when there was one.
    public var testPixel: Double?
    /// The step a time budget (`minutes`) made the run end at, when it moved the end earlier; a
    /// resumed run keeps it, and its learning-rate decay with it.
    public var plannedSteps: Int?
    /// The SHA-256 of each other file of the checkpoint (model, optimizer, config), verified on
    /// load; absent in checkpoints written before checksums were recorded.
    public var files: [String: String]?

    enum CodingKeys: String, CodingKey {
        case format, step, epoch, elapsed, widths, batch, kld, beta, schedule, loader, files
        case betaValue = "beta_value", noiseGenerator = "noise_generator", testPixel = "test_pixel", plannedSteps = "planned_steps"
    }
}

/// Checkpoint directories: `model.safetensors` (parameters, buffers and counters with PyTorch
/// names; the widths as `__metadata__` `inkwell.widths`), `optimizer.safetensors` (`encoder.<i>.step`, `encoder.<i>.exp_avg`,
/// `encoder.<i>.exp_avg_sq`, likewise `decoder.`, `discriminator.`), `state.json`
/// (`CheckpointState`) and `config.json` (the run's configuration). Each file is written and
/// synced in a temporary directory through `AtomicFile`, which is then renamed into place (the
/// folder synced), so a reader sees the old checkpoint or the new one, durably.
public enum Checkpoint {
    public static let modelFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "state.json"
    public static let configFile = RunLayout.configurationName

    /// Writes a checkpoint to `directory` atomically (replacing what is there), recording the
    /// SHA-256 of its model, optimizer and config files in its state.json. Temporary folders
    /// that an interrupted write of the same checkpoint left are removed first.
    public static func write(to directory: URL, model: VAEGAN, optimizers: VAEGANOptimizers,
                             state: CheckpointState, configuration: TrainingConfiguration) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        removeTemporaries(in: parent, prefixes: [".tmp-\(directory.lastPathComponent)-"])
        let temporary = parent.appendingPathComponent(".tmp-\(directory.lastPathComponent)-\(UUID().uuidString.prefix(8))")
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
            try model.saveState(to: temporary.appendingPathComponent(modelFile), metadata: model.widths.metadata)
            var items: [(String, SafeTensors.Item)] = []
            for (name, optimizer) in optimizers.named {
                items += optimizer.stateTensors().map { ("\(name).\($0.0)", SafeTensors.Item.float($0.1)) }
            }
            try SafeTensors.write(items: items, to: temporary.appendingPathComponent(optimizerFile))
            try AtomicFile.write(encodeJSON(configuration), to: temporary.appendingPathComponent(configFile))
            var state = state
            state.files = try Dictionary(uniqueKeysWithValues: [modelFile, optimizerFile, configFile].map {
                ($0, try FileDigest.sha256(of: temporary.appendingPathComponent($0)))
            })
            try AtomicFile.write(encodeJSON(state), to: temporary.appendingPathComponent(stateFile))
            try replace(directory, with: temporary)
        } catch {
            try? fm.removeItem(at: temporary)
            throw TrainingError.io("checkpoint \(directory.path): \(error); the previous checkpoint is intact")
        }
    }

    /// Moves `temporary` to `directory`; an existing `directory` is moved aside first and removed
    /// after. (A crash between the two renames leaves `.old-<name>`, which `read` falls back to.)
    static func replace(_ directory: URL, with temporary: URL) throws {
        let fm = FileManager.default
        let old = directory.deletingLastPathComponent().appendingPathComponent(".old-\(directory.lastPathComponent)")
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: directory.path) { try AtomicFile.move(directory, to: old) }
        try AtomicFile.move(temporary, to: directory)
        try? fm.removeItem(at: old)
        AtomicFile.syncDirectory(directory.deletingLastPathComponent())
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Removes the entries of `directory` whose names start with one of `prefixes` (what killed
    /// checkpoint writes leave: `.tmp-latest-XXXXXXXX`, `.candidate-STEP`); returns their names.
    @discardableResult
    public static func removeTemporaries(in directory: URL, prefixes: [String]) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let stale = names.filter { name in prefixes.contains { name.hasPrefix($0) } }
        for name in stale { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        return stale
    }

    /// Checks the files of the checkpoint in `dir` against the SHA-256 its state.json recorded
    /// (only `names` among them); a mismatch is a corrupt file, named.
    static func verifyChecksums(_ dir: URL, _ state: CheckpointState, names: [String]) throws {
        guard let files = state.files else { return }
        for name in names {
            guard let expected = files[name] else { continue }
            let url = dir.appendingPathComponent(name)
            let actual: String
            do { actual = try FileDigest.sha256(of: url) } catch {
                throw TrainingError.checkpoint("\(url.path): cannot read (\(error))")
            }
            guard actual == expected else {
                throw TrainingError.checkpoint("\(url.path): corrupt: its SHA-256 \(actual.prefix(16))... differs from the \(expected.prefix(16))... recorded in \(stateFile) when it was written")
            }
        }
    }

    /// The directory to read for `directory`: itself, or its `.old-` copy left by an interrupted
    /// replacement.
    static func existing(_ directory: URL) -> URL? {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent(stateFile).path) { return directory }
        let old = directory.deletingLastPathComponent().appendingPathComponent(".old-\(directory.lastPathComponent)")
        return fm.fileExists(atPath: old.appendingPathComponent(stateFile).path) ? old : nil
    }

    /// Whether `directory` (or its interrupted-replacement copy) holds a checkpoint.
    public static func exists(at directory: URL) -> Bool { existing(directory) != nil }

    /// Reads and checks a checkpoint's state.json.
    public static func readState(_ directory: URL) throws -> CheckpointState {
        guard let dir = existing(directory) else { throw TrainingError.checkpoint("\(directory.path): no checkpoint (state.json missing)") }
        let url = dir.appendingPathComponent(stateFile)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpoint("\(url.path): cannot read (\(error.localizedDescription))")
        }
        return try decodeState(data, file: url.path)
    }

    /// Decodes and checks the bytes of a state.json; `file` names it in errors.
    public static func decodeState(_ data: Data, file: String) throws -> CheckpointState {
        let state: CheckpointState
        do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch let error as DecodingError {
            throw TrainingError.checkpoint("\(file): corrupt state (\(describe(error)))")
        } catch {
            throw TrainingError.checkpoint("\(file): corrupt state (\(error.localizedDescription))")
        }
        guard state.format == 1 else { throw TrainingError.checkpoint("\(file): unknown format \(state.format)") }
        guard state.noiseGenerator.count == 4, state.noiseGenerator.allSatisfy({ UInt64($0, radix: 16) != nil }) else {
            throw TrainingError.checkpoint("\(file): noise_generator must be four hex words")
        }
        return state
    }

    /// Reads the configuration saved with a checkpoint.
    public static func readConfiguration(_ directory: URL) throws -> TrainingConfiguration {
        guard let dir = existing(directory) else { throw TrainingError.checkpoint("\(directory.path): no checkpoint (state.json missing)") }
        let url = dir.appendingPathComponent(configFile)
        do {
            return try JSONDecoder().decode(TrainingConfiguration.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw TrainingError.checkpoint("\(url.path): corrupt configuration (\(describe(error)))")
        } catch {
            throw TrainingError.checkpoint("\(url.path): cannot read (\(error.localizedDescription))")
        }
    }

    /// Loads the weights (and, when `optimizers` is given, the optimizer state) of the checkpoint
    /// in `directory` into `model`; checks the widths first. Returns the training state. Every
    /// problem (missing file, corrupt file, widths or shapes that do not fit) is one clear error
    /// before anything is modified in the model.
    @discardableResult
    public static func restore(from directory: URL, into model: VAEGAN, optimizers: VAEGANOptimizers?) throws -> CheckpointState {
        let state = try readState(directory)
        let dir = existing(directory)!
        guard state.widths == model.widths else {
            throw TrainingError.checkpoint("\(dir.path): widths \(describeWidths(state.widths)) do not fit the configured model \(describeWidths(model.widths))")
        }
        try verifyChecksums(dir, state, names: optimizers == nil ? [modelFile] : [modelFile, optimizerFile])
        do {
            let weights = try SafeTensorsFile(contentsOf: dir.appendingPathComponent(modelFile))
            var optimizerTensors: [String: Tensor] = [:]
            if optimizers != nil {
                optimizerTensors = try SafeTensorsFile(contentsOf: dir.appendingPathComponent(optimizerFile)).allTensors()
            }
            try model.loadWeights(weights)
            if let optimizers {
                for (name, optimizer) in optimizers.named {
                    let prefix = name + "."
                    var own: [String: Tensor] = [:]
                    for (key, value) in optimizerTensors where key.hasPrefix(prefix) { own[String(key.dropFirst(prefix.count))] = value }
                    try optimizer.loadState(own)
                }
            }
        } catch let error as SafeTensorsError {
            throw TrainingError.checkpoint("\(error)")
        } catch let error as OptimizerStateError {
            throw TrainingError.checkpoint("\(dir.appendingPathComponent(optimizerFile).path): \(error)")
        }
        return state
    }

    static func describeWidths(_ w: ModelWidths) -> String {
        "(latent \(w.latent), encoder \(w.encoder), decoder \(w.decoder), discriminator \(w.discriminator), hidden \(w.discriminatorHidden), feature map \(w.featureMap)\(w.linearSkip ? ", linear skip" : "")\(w.linearEncoder ? ", linear encoder" : ""))"
    }
}
