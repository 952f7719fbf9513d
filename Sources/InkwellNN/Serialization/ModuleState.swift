import Foundation
import InkwellEngine

// A module's whole state (parameters, buffers and integer counters, by PyTorch name) to and from
// safetensors files. Counters (batch norm's `num_batches_tracked`) are written as I64 scalars,
// the dtype PyTorch's `state_dict()` has, so `safetensors.torch.load_file` + `load_state_dict`
// accept an Inkwell file unchanged.

/// How strictly `Module.loadState` matches names.
public struct StateLoadOptions: Sendable {
    /// Names in the file (under the prefix) that the module does not have are an error unless set.
    public var allowUnknown: Bool
    /// Counters (`num_batches_tracked`) absent from the file are an error unless set; when
    /// allowed, a missing counter reads as 0 (what converters that drop it mean).
    public var allowMissingCounters: Bool

    public init(allowUnknown: Bool = false, allowMissingCounters: Bool = false) {
        self.allowUnknown = allowUnknown
        self.allowMissingCounters = allowMissingCounters
    }

    /// Every tensor and counter must match, both ways.
    public static let strict = StateLoadOptions()
}

extension Module {
    /// The state in PyTorch's `state_dict()` order (each module's tensors in declaration order,
    /// then its counters, then its children), as safetensors items.
    public func stateItems() -> [(String, SafeTensors.Item)] {
        namedModules().flatMap { path, module -> [(String, SafeTensors.Item)] in
            let name = { (local: String) in path.isEmpty ? local : "\(path).\(local)" }
            return module.ownTensors().map { (name($0.0), SafeTensors.Item.float($0.1)) }
                + module.ownCounters().map { (name($0.0), SafeTensors.Item.int64(shape: [], values: [Int64($0.1)])) }
        }
    }

    /// Writes parameters, buffers and counters to `url` (through a temporary file renamed into
    /// place), each name prefixed by `prefix` (e.g. "vae.").
    public func saveState(to url: URL, prefix: String = "", metadata: [String: String] = [:]) throws {
        try SafeTensors.write(items: stateItems().map { (prefix + $0.0, $0.1) }, to: url, metadata: metadata)
    }

    /// Reads `url` and copies every tensor and counter of this module from it (see
    /// `loadState(from:prefix:options:)`).
    public func loadState(from url: URL, prefix: String = "", options: StateLoadOptions = .strict) throws {
        try loadState(from: SafeTensorsFile(contentsOf: url), prefix: prefix, options: options)
    }

    /// Copies every parameter, buffer and counter of this module from `file`, where this module's
    /// name `n` is stored as `prefix + n`. Values are copied into the existing tensors (identity is
    /// kept, so optimizers holding them stay valid). A counter absent from the file reads as 0 when
    /// `options.allowMissingCounters`.
    ///
    /// Throws one error naming the file and listing every problem at once: each missing tensor,
    /// each shape that differs, each bad counter and (unless `options.allowUnknown`) each name
    /// under `prefix` this module lacks. Nothing is modified unless every check passes.
    public func loadState(from file: SafeTensorsFile, prefix: String = "", options: StateLoadOptions = .strict) throws {
        var problems: [(tensor: String, reason: String)] = []
        var loaded: [(Tensor, Tensor)] = []
        for (name, tensor) in stateTensors() {
            let key = prefix + name
            guard let entry = try? file.entry(key) else { problems.append((key, "missing")); continue }
            guard entry.shape == tensor.shape else {
                problems.append((key, "shape \(Shape.describe(entry.shape)) does not match the module's \(Shape.describe(tensor.shape))"))
                continue
            }
            loaded.append((tensor, try file.tensor(key)))
        }
        let counterValues = readCounters(from: file, prefix: prefix, options: options, problems: &problems)
        if !options.allowUnknown {
            let known = Set(stateTensors().map { prefix + $0.0 } + stateCounters().map { prefix + $0.0 })
            for name in file.names where name.hasPrefix(prefix) && !known.contains(name) {
                problems.append((name, "unknown to the module"))
            }
        }
        try Module.throwIfAny(problems, file: file)
        for (target, source) in loaded { target.copy(from: source) }
        let modules = Dictionary(namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in counterValues {
            let parts = name.split(separator: ".")
            let path = parts.dropLast().joined(separator: ".")
            modules[path]?.setCounter(String(parts.last!), value)
        }
    }

    /// The counters' values from `file` (0 for a missing one when allowed), adding each problem.
    private func readCounters(from file: SafeTensorsFile, prefix: String, options: StateLoadOptions,
                              problems: inout [(tensor: String, reason: String)]) -> [(String, Int)] {
        var values: [(String, Int)] = []
        for (name, _) in stateCounters() {
            let key = prefix + name
            guard file.contains(key) else {
                if options.allowMissingCounters { values.append((name, 0)) } else { problems.append((key, "missing (counter)")) }
                continue
            }
            guard let read = try? file.integers(key), read.count == 1 else {
                problems.append((key, "a counter must hold one whole number"))
                continue
            }
            values.append((name, Int(read[0])))
        }
        return values
    }

    /// Throws nothing for no problems, the problem itself for one, and one error listing all of
    /// them for several.
    private static func throwIfAny(_ problems: [(tensor: String, reason: String)], file: SafeTensorsFile) throws {
        guard let first = problems.first else { return }
        if problems.count == 1 { throw SafeTensorsError(file: file.url.path, tensor: first.tensor, reason: first.reason) }
        let list = problems.map { "'\($0.tensor)' \($0.reason)" }.joined(separator: "; ")
        throw SafeTensorsError(file: file.url.path, reason: "does not fit the model (\(problems.count) problems): \(list)")
    }
}
