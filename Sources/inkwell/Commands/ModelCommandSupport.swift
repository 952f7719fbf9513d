import ArgumentParser
import Foundation
import Inkwell

/// What the commands that take `--model` share (evaluate, sample, encode, decode, interpolate):
/// checks of their paths before any work, the dataset split they read, and one-line errors.
enum ModelCommandSupport {
    /// The `--model` help: the three forms a model may take.
    static let modelHelp = ArgumentHelp("A run directory, a checkpoint folder or a bare .safetensors state dict (reference PyTorch names).",
                                        valueName: "model")

    /// Runs `body`; an error becomes one line on stderr, `inkwell COMMAND: ...`, and exit status 1.
    static func run(_ command: String, _ body: () throws -> Void) throws {
        do { try body() } catch let exit as ExitCode { throw exit } catch {
            // Foundation's errors describe themselves over several fields; their message is one line.
            let foundation = error is CocoaError || type(of: error) is NSError.Type
            let text = foundation ? error.localizedDescription : "\(error)"
            FileHandle.standardError.write(Data("inkwell \(command): \(text)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `path` must exist (file or folder).
    static func requireExisting(_ path: String, option: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(option) \(path): no such file or folder") }
    }

    /// `path` must be a folder that exists and is writable, or one that can be created: a probe
    /// folder is made and removed in it (or in its nearest existing ancestor), so nothing is left.
    static func requireWritableFolder(_ path: String, option: String) throws {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            url = url.deletingLastPathComponent()
        }
        guard isDirectory.boolValue else { throw ValidationError("\(option) \(path): \(url.path) is not a folder") }
        let probe = url.appendingPathComponent(".inkwell-probe-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: false)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw ValidationError("\(option) \(path): \(url.path) is not writable")
        }
    }

    /// `path` must be a file name ending in `suffix` whose folder is writable (or can be created).
    static func requireWritableFile(_ path: String, option: String, suffix: String) throws {
        guard path.lowercased().hasSuffix(suffix) else { throw ValidationError("\(option) \(path): must be a \(suffix) file") }
        try requireWritableFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path, option: option)
    }

    /// The split named by `--split`.
    static func split(_ name: String) throws -> Split {
        guard let split = Split(rawValue: name) else { throw ValidationError("--split \(name): must be test or train") }
        return split
    }

    /// Every frame of `split` of the dataset at `path`, in dataset order, `batch` at a time.
    static func openSplit(_ path: String, _ split: Split, batch: Int = Inference.batch) throws -> DatasetLoader {
        try DatasetLoader(url: URL(fileURLWithPath: path), split: split, batchSize: batch, seed: 0, shuffle: false,
                          dropLast: false, prefetch: false)
    }
}
