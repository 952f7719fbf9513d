import InkwellEngine

/// A layer or a model: named parameters, named buffers and named child modules, with training
/// and evaluation modes.
///
/// Names are found by reflection on stored properties, so they follow the property names and
/// nest with dots as PyTorch's do: a `Sequential` property `convs` whose child 0 is a
/// `Sequential` whose child 1 is a `Conv2d` gives `convs.0.1.weight`.
/// - A stored `Tensor` (or `Tensor?`) property that requires grad is a parameter.
/// - One that does not (running statistics) is a buffer.
/// - A stored `Module` property is a child; `Sequential` names its children by index.
open class Module {
    /// Training mode (the default) or evaluation mode; set recursively by `train(_:)`.
    public private(set) var training = true

    public init() {}

    /// Child modules in declaration order.
    open func namedChildren() -> [(String, Module)] {
        reflectedProperties().compactMap { name, value in (value as? Module).map { (name, $0) } }
    }

    /// This module's own tensors (not its children's), in declaration order.
    open func ownTensors() -> [(String, Tensor)] {
        reflectedProperties().compactMap { name, value in (value as? Tensor).map { (name, $0) } }
    }

    /// Integer state saved with the module that is not a tensor (batch norm's
    /// `num_batches_tracked`). Read and written through `stateCounters` / `setCounter`.
    open func ownCounters() -> [(String, Int)] { [] }

    /// Restores a counter named by `ownCounters()`.
    open func setCounter(_ name: String, _ value: Int) {}

    /// Called when the mode changes.
    open func didSetTraining(_ training: Bool) {}

    private func reflectedProperties() -> [(String, Any)] {
        var result: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror, m.subjectType != Module.self {
            levels.append(m)
            mirror = m.superclassMirror
        }
        for level in levels.reversed() {
            for child in level.children {
                guard let label = child.label, !label.hasPrefix("$") else { continue }
                result.append((label.hasPrefix("_") ? String(label.dropFirst()) : label, child.value))
            }
        }
        return result
    }

    // MARK: - Recursive views

    /// Every module below and including this one, with its dotted path ("" for this one).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (name, child) in namedChildren() {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    private func collect(_ select: (Module) -> [(String, Tensor)]) -> [(String, Tensor)] {
        namedModules().flatMap { path, module in
            select(module).map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    /// Trainable tensors by dotted name.
    public func namedParameters() -> [(String, Tensor)] {
        collect { $0.ownTensors().filter { $0.1.requiresGrad } }
    }

    /// Non-trainable state tensors (running statistics) by dotted name.
    public func namedBuffers() -> [(String, Tensor)] {
        collect { $0.ownTensors().filter { !$0.1.requiresGrad } }
    }

    /// Every parameter, in order.
    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// Parameters and buffers in PyTorch's `state_dict()` order: each module's own tensors in
    /// declaration order, then its children's.
    public func stateTensors() -> [(String, Tensor)] {
        collect { $0.ownTensors() }
    }

    /// Integer state by dotted name (e.g. `encoder.convs.0.2.num_batches_tracked`).
    public func stateCounters() -> [(String, Int)] {
        namedModules().flatMap { path, module in
            module.ownCounters().map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Sets training (true) or evaluation (false) mode on this module and every child.
    public func train(_ mode: Bool = true) {
        for (_, module) in namedModules() {
            module.training = mode
            module.didSetTraining(mode)
        }
    }

    /// Evaluation mode: batch norm uses its running statistics and leaves them alone.
    public func eval() { train(false) }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// A module with one input and one output, usable in a `Sequential`.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}
