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
    /// allowed, a missing counter keeps its current value.
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
    /// kept, so optimizers holding them stay valid).
    ///
    /// Throws, naming the file and the tensor, when a name is missing, a shape differs, or (unless
    /// `options.allowUnknown`) the file has names under `prefix` this module lacks. Nothing is
    /// modified unless every check passes.
    public func loadState(from file: SafeTensorsFile, prefix: String = "", options: StateLoadOptions = .strict) throws {
        let tensors = stateTensors()
        let counters = stateCounters()
        var loaded: [(Tensor, Tensor)] = []
        for (name, tensor) in tensors {
            let key = prefix + name
            let entry = try file.entry(key)
            guard entry.shape == tensor.shape else {
                throw SafeTensorsError(file: file.url.path, tensor: key,
                                       reason: "shape \(Shape.describe(entry.shape)) does not match the module's \(Shape.describe(tensor.shape))")
            }
            loaded.append((tensor, try file.tensor(key)))
        }
        var counterValues: [(String, Int)] = []
        for (name, _) in counters {
            let key = prefix + name
            guard file.contains(key) else {
                if options.allowMissingCounters { continue }
                throw SafeTensorsError(file: file.url.path, tensor: key, reason: "missing (counter)")
            }
            let values = try file.integers(key)
            guard values.count == 1 else {
                throw SafeTensorsError(file: file.url.path, tensor: key, reason: "a counter must hold one value, found \(values.count)")
            }
            counterValues.append((name, Int(values[0])))
        }
        if !options.allowUnknown {
            let known = Set(tensors.map { prefix + $0.0 } + counters.map { prefix + $0.0 })
            let unknown = file.names.filter { $0.hasPrefix(prefix) && !known.contains($0) }
            if let first = unknown.first {
                let more = unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""
                throw SafeTensorsError(file: file.url.path, tensor: first, reason: "unknown to the module\(more)")
            }
        }
        for (target, source) in loaded { target.copy(from: source) }
        let modules = Dictionary(namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in counterValues {
            let parts = name.split(separator: ".")
            let path = parts.dropLast().joined(separator: ".")
            modules[path]?.setCounter(String(parts.last!), value)
        }
    }
}
