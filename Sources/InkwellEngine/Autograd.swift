import Foundation

/// The record of one op in the graph: its differentiable inputs and its backward function.
///
/// `backward(gradOutput, needsInputGrad)` returns one gradient per input (nil where
/// `needsInputGrad` is false), each with that input's shape. It runs with recording off.
final class GradNode {
    let op: String
    var inputs: [Tensor]
    var backward: ((Tensor, [Bool]) -> [Tensor?])?
    /// Storages the backward reads, with their version at forward time.
    var saved: [(storage: TensorStorage, version: Int)]
    var released = false

    init(op: String, inputs: [Tensor], saved: [Tensor], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
        self.saved = saved.map { ($0.storage, $0.storage.version) }
    }

    func release() {
        released = true
        backward = nil
        inputs = []
        saved = []
    }
}

/// Whether ops record themselves for autograd. Process-wide: turn it off around evaluation with
/// `withoutGrad { ... }`.
public enum GradMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    /// Runs `body` with recording off (PyTorch's `torch.no_grad()`), restoring the previous mode.
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        let previous = isEnabled
        isEnabled = false
        defer { isEnabled = previous }
        return try body()
    }
}

/// Runs `body` with nothing recorded for autograd (evaluation, sampling).
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.withoutGrad(body)
}

extension Tensor {
    /// Records this freshly computed output of `op` in the graph when recording is on and any
    /// input requires grad. `saved` are the tensors the backward reads (default: the inputs);
    /// modifying one in place before the backward is reported as an error.
    @discardableResult
    func recorded(_ op: String, _ inputs: [Tensor], saving saved: [Tensor]? = nil,
                  _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
        if Profiler.isEnabled { Profiler.markForward(op) }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        node = GradNode(op: op, inputs: inputs, saved: saved ?? inputs, backward: backward)
        return self
    }

    /// A tensor sharing this one's values, cut from the graph: nothing flows back through it.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, requiresGrad: false)
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this tensor, accumulating gradients into leaves.
    ///
    /// - Parameters:
    ///   - gradient: the upstream gradient; omitted, this tensor must hold one element and the
    ///     gradient is 1.
    ///   - targets: the leaves whose gradients are wanted. Omitted, every leaf that requires grad
    ///     gets one (as in PyTorch). Given, only the work these need is done: ops whose inputs lead
    ///     to no target compute nothing, and other leaves' `grad` is left untouched.
    ///
    /// The graph is released afterwards; back-propagating through it again stops with an error.
    public func backward(_ gradient: Tensor? = nil, to targets: [Tensor]? = nil) {
        guard requiresGrad else {
            fatalError("backward: tensor \(Shape.describe(shape)) does not require grad (no input of its graph requires grad)")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else { shapeMismatch("backward(gradient:)", shape, gradient.shape) }
            seed = gradient
        } else {
            guard count == 1 else {
                fatalError("backward: needs a one-element tensor without an explicit gradient; shape is \(Shape.describe(shape))")
            }
            seed = Tensor(repeating: 1, shape: shape)
        }

        var order = topologicalOrder()
        let targetSet = targets.map { Set($0.map(ObjectIdentifier.init)) }
        var needs = [ObjectIdentifier: Bool](minimumCapacity: order.count)
        for t in order {
            let id = ObjectIdentifier(t)
            if let node = t.node {
                needs[id] = node.inputs.contains { needs[ObjectIdentifier($0)] ?? false }
            } else {
                needs[id] = t.requiresGrad && (targetSet?.contains(id) ?? true)
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        // Each node is released as soon as it has been visited (its backward run, or skipped as
        // not needed), and the walk drops its own reference to the tensor, so activations and
        // saved inputs that nothing else holds are freed while the backward is still running.
        var pending: [Tensor?] = order
        order = []
        GradMode.withoutGrad {
            for index in pending.indices.reversed() {
                guard let t = pending[index] else { continue }
                if !keepGraphUntilEnd { pending[index] = nil }
                defer { if !keepGraphUntilEnd { t.node?.release() } }
                let id = ObjectIdentifier(t)
                guard let g = grads.removeValue(forKey: id), needs[id] == true else { continue }
                guard let node = t.node else {
                    t.grad = t.grad.map { accumulate($0, g) } ?? g
                    continue
                }
                for entry in node.saved where entry.storage.version != entry.version {
                    fatalError("backward: a tensor that \(node.op) saved for its gradient was modified in place after the forward pass")
                }
                let mask = node.inputs.map { needs[ObjectIdentifier($0)] ?? false }
                guard let backward = node.backward else { continue }
                let profileStart = Profiler.isEnabled ? Profiler.now() : 0
                defer { if Profiler.isEnabled { Profiler.addBackward(node.op, since: profileStart) } }
                let inputGrads = backward(g, mask)
                precondition(inputGrads.count == node.inputs.count, "\(node.op): backward returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (index, input) in node.inputs.enumerated() where mask[index] {
                    guard let ig = inputGrads[index] else { continue }
                    guard ig.shape == input.shape else {
                        shapeMismatch("\(node.op) backward", input.shape, ig.shape, "input \(index) vs its gradient")
                    }
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { accumulate($0, ig) } ?? ig
                }
            }
        }
        if keepGraphUntilEnd { for t in pending { t?.node?.release() } }
    }

    /// Diagnostic for memory measurements: with `INKWELL_KEEP_GRAPH_UNTIL_END` set, the graph is
    /// released only after the whole backward (the engine's earlier behaviour), not node by node.
    private var keepGraphUntilEnd: Bool { Tensor.keepGraphUntilEnd }
    private static let keepGraphUntilEnd = ProcessInfo.processInfo.environment["INKWELL_KEEP_GRAPH_UNTIL_END"] != nil

    /// Tensors of this graph, inputs before the ops that use them (post-order DFS).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        while let (t, next) = stack.popLast() {
            if next == 0 {
                guard visited.insert(ObjectIdentifier(t)).inserted else { continue }
                if let node = t.node, node.released {
                    fatalError("backward: the graph through \(node.op) was already back-propagated and released; run the forward pass again")
                }
            }
            guard let node = t.node, next < node.inputs.count else {
                order.append(t)
                continue
            }
            stack.append((t, next + 1))
            let input = node.inputs[next]
            if input.requiresGrad, !visited.contains(ObjectIdentifier(input)) { stack.append((input, 0)) }
        }
        return order
    }
}

/// a + b into a new tensor (gradients are never mutated in place: several inputs may share one).
private func accumulate(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape else { shapeMismatch("gradient accumulation", a.shape, b.shape) }
    let out = Tensor.empty(a.shape)
    Kernels.add(a.pointer, b.pointer, out.pointer, a.count)
    return out
}
