import Foundation

/// Where one input's gradient goes: the op that produced the input, or the leaf itself.
///
/// A node points at the *producing node* of each input, not at the input tensor, so an
/// intermediate tensor's values are freed as soon as nothing else holds them: an op whose
/// backward needs only its output (ReLU, tanh, instance norm) does not keep its input alive.
enum GradEdge {
    case node(GradNode)
    case leaf(Tensor)

    var id: ObjectIdentifier {
        switch self {
        case .node(let node): return ObjectIdentifier(node)
        case .leaf(let tensor): return ObjectIdentifier(tensor)
        }
    }
}

/// The record of one op in the graph: where its inputs' gradients go and its backward function.
///
/// `backward(gradOutput, needsInputGrad)` returns one gradient per input (nil where
/// `needsInputGrad` is false), each with that input's shape. It runs with recording off. The
/// backward closure holds exactly the values it reads (registered in `saved`); the node itself
/// holds no tensor values.
final class GradNode {
    let op: String
    /// One per input: nil where the input needs no gradient.
    var edges: [GradEdge?]
    let inputShapes: [[Int]]
    var backward: ((Tensor, [Bool]) -> [Tensor?])?
    /// Storages the backward reads, with their version at forward time.
    var saved: [(storage: TensorStorage, version: Int)]
    var released = false

    init(op: String, inputs: [Tensor], saved: [TensorStorage], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        self.op = op
        self.edges = inputs.map { input in
            if let node = input.node { return .node(node) }
            return input.requiresGrad ? .leaf(input) : nil
        }
        self.inputShapes = inputs.map(\.shape)
        self.backward = backward
        self.saved = saved.map { ($0, $0.version) }
    }

    func release() {
        released = true
        backward = nil
        edges = []
        saved = []
    }
}

/// Whether ops record themselves for autograd. Scoped to the calling task (or thread, outside
/// tasks): turn it off around evaluation with `withoutGrad { ... }`; other threads are unaffected.
public enum GradMode {
    @TaskLocal private static var recording = true

    /// Whether ops called here record themselves (true unless inside `withoutGrad`).
    public static var isEnabled: Bool { recording }

    /// Whether an op with these inputs is recorded: recording is on and an input requires grad.
    static func records(_ inputs: [Tensor]) -> Bool {
        recording && inputs.contains(where: { $0.requiresGrad })
    }

    /// Runs `body` with recording off (PyTorch's `torch.no_grad()`), restoring the previous mode.
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $recording.withValue(false) { try body() }
    }
}

/// Runs `body` with nothing recorded for autograd (evaluation, sampling).
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.withoutGrad(body)
}

extension Tensor {
    /// Records this freshly computed output of `op` in the graph when recording is on and any
    /// input requires grad. `saved` are the tensors the backward closure reads (default: the
    /// inputs); modifying one in place before the backward is reported as an error. The closure
    /// must capture only these (an output it reads is captured as its storage, never as the
    /// output tensor itself, which would hold its own node).
    @discardableResult
    func recorded(_ op: String, _ inputs: [Tensor], saving saved: [Tensor]? = nil,
                  _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
        recorded(op, inputs, savingStorages: (saved ?? inputs).map(\.storage), backward)
    }

    /// `recorded` with the saved values given as storages (for ops that save their output).
    @discardableResult
    func recorded(_ op: String, _ inputs: [Tensor], savingStorages saved: [TensorStorage],
                  _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
        if Profiler.isEnabled { Profiler.markForward(op) }
        guard GradMode.records(inputs) else { return self }
        requiresGrad = true
        node = GradNode(op: op, inputs: inputs, saved: saved, backward: backward)
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
    ///   - watcher: told when each target's gradient is final and after each op's backward
    ///     (data-parallel training starts summing gradients while the pass goes on); needs `targets`.
    ///
    /// The graph is released afterwards; back-propagating through it again stops with an error.
    public func backward(_ gradient: Tensor? = nil, to targets: [Tensor]? = nil, watcher: BackwardWatcher? = nil) {
        precondition(watcher == nil || targets != nil, "backward: a watcher needs the targets")
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

        guard let root = node else {
            // A leaf: its gradient is the seed.
            if targets.map({ $0.contains { $0 === self } }) ?? true { grad = grad.map { accumulate($0, seed) } ?? seed }
            for target in targets ?? [] { watcher?.gradientIsFinal(target) }
            return
        }
        let order = topologicalOrder(root)
        let targetSet = targets.map { Set($0.map(ObjectIdentifier.init)) }
        var needs = Set<ObjectIdentifier>(minimumCapacity: order.count)
        /// Whether a gradient must flow along `edge`: to a needed node, or to a leaf that is
        /// requested (all leaves when no targets are given).
        func needed(_ edge: GradEdge?) -> Bool {
            switch edge {
            case .node(let input): return needs.contains(ObjectIdentifier(input))
            case .leaf(let leaf): return leaf.requiresGrad && (targetSet?.contains(ObjectIdentifier(leaf)) ?? true)
            case nil: return false
            }
        }
        for node in order where node.edges.contains(where: needed) { needs.insert(ObjectIdentifier(node)) }
        let finals = watcher.map { finalLeaves(order, targets: targets ?? [], needed: needed, watcher: $0) } ?? [:]

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        // Each node is released as soon as it has been visited (its backward run, or skipped as
        // not needed), so the values its backward saved are freed while the backward is still
        // running, unless something else holds them.
        GradMode.withoutGrad {
            for node in order.reversed() {
                let id = ObjectIdentifier(node)
                defer {
                    if !keepGraphUntilEnd { node.release() }
                    if let watcher {
                        for leaf in finals[id] ?? [] { watcher.gradientIsFinal(leaf) }
                        watcher.opFinished()
                    }
                }
                guard let g = grads.removeValue(forKey: id), needs.contains(id) else { continue }
                for entry in node.saved where entry.storage.version != entry.version {
                    fatalError("backward: a tensor that \(node.op) saved for its gradient was modified in place after the forward pass")
                }
                let mask = node.edges.map(needed)
                guard let backward = node.backward else { continue }
                let profileStart = Profiler.isEnabled ? Profiler.now() : 0
                defer { if Profiler.isEnabled { Profiler.addBackward(node.op, since: profileStart) } }
                let inputGrads = backward(g, mask)
                precondition(inputGrads.count == node.edges.count, "\(node.op): backward returned \(inputGrads.count) gradients for \(node.edges.count) inputs")
                for (index, edge) in node.edges.enumerated() where mask[index] {
                    guard let edge, let ig = inputGrads[index] else { continue }
                    guard ig.shape == node.inputShapes[index] else {
                        shapeMismatch("\(node.op) backward", node.inputShapes[index], ig.shape, "input \(index) vs its gradient")
                    }
                    switch edge {
                    case .leaf(let leaf):
                        leaf.grad = leaf.grad.map { accumulate($0, ig) } ?? ig
                    case .node:
                        grads[edge.id] = grads[edge.id].map { accumulate($0, ig) } ?? ig
                    }
                }
            }
        }
        if keepGraphUntilEnd { for node in order { node.release() } }
    }

    /// For a watched pass: the targets each node gives its last gradient to (a leaf's gradient is
    /// final once the last node with an edge to it, in the reversed order, has run). Targets no
    /// needed node reaches are reported final at once.
    private func finalLeaves(_ order: [GradNode], targets: [Tensor], needed: (GradEdge?) -> Bool,
                             watcher: BackwardWatcher) -> [ObjectIdentifier: [Tensor]] {
        var finals: [ObjectIdentifier: [Tensor]] = [:]
        var placed = Set<ObjectIdentifier>()
        // The backward visits `order` from its end: a leaf's first edge in `order` is its last.
        for node in order {
            for case .leaf(let leaf)? in node.edges where needed(.leaf(leaf)) && placed.insert(ObjectIdentifier(leaf)).inserted {
                finals[ObjectIdentifier(node), default: []].append(leaf)
            }
        }
        for target in targets where placed.insert(ObjectIdentifier(target)).inserted { watcher.gradientIsFinal(target) }
        return finals
    }

    /// Diagnostic for memory measurements: with `INKWELL_KEEP_GRAPH_UNTIL_END` set, the graph is
    /// released only after the whole backward (the engine's earlier behaviour), not node by node.
    private var keepGraphUntilEnd: Bool { Tensor.keepGraphUntilEnd }
    private static let keepGraphUntilEnd = ProcessInfo.processInfo.environment["INKWELL_KEEP_GRAPH_UNTIL_END"] != nil

    /// The nodes of the graph below `root`, each after the nodes of its inputs (post-order DFS).
    private func topologicalOrder(_ root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        while let (node, next) = stack.popLast() {
            if next == 0 {
                guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
                if node.released {
                    fatalError("backward: the graph through \(node.op) was already back-propagated and released; run the forward pass again")
                }
            }
            guard next < node.edges.count else {
                order.append(node)
                continue
            }
            stack.append((node, next + 1))
            if case .node(let input) = node.edges[next], !visited.contains(ObjectIdentifier(input)) { stack.append((input, 0)) }
        }
        return order
    }
}

/// Watches a backward pass (`Tensor.backward(to:watcher:)`): data-parallel training sums each
/// bucket of gradients over the ranks as soon as they are final, while the pass goes on.
public protocol BackwardWatcher: AnyObject {
    /// `leaf`'s gradient will not change again in this pass (`grad` stays nil when none flowed to
    /// it). Called once for each target.
    func gradientIsFinal(_ leaf: Tensor)
    /// An op's backward has run (a moment to move outstanding work along).
    func opFinished()
}

/// a + b into a new tensor (gradients are never mutated in place: several inputs may share one).
/// When one already covers the global batch and the other only this process's samples, the
/// other is summed over the processes first (a collective: every process meets the same
/// accumulation in the same order).
private func accumulate(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape else { shapeMismatch("gradient accumulation", a.shape, b.shape) }
    let global = a.isSummedOverGlobalBatch || b.isSummedOverGlobalBatch
    let (a, b) = global ? (summedOverGlobalBatch(a), summedOverGlobalBatch(b)) : (a, b)
    let out = Tensor.empty(a.shape)
    Kernels.add(a.pointer, b.pointer, out.pointer, a.count)
    out.isSummedOverGlobalBatch = global
    return out
}

/// A local gradient summed over the global batch's processes (a copy), or `t` if it already is.
private func summedOverGlobalBatch(_ t: Tensor) -> Tensor {
    guard !t.isSummedOverGlobalBatch else { return t }
    guard let group = GlobalBatch.group else {
        preconditionFailure("gradient accumulation: a global-batch gradient outside a data-parallel step")
    }
    let sum = t.clone()
    group.sumAcrossBatch(sum.buffer)
    sum.isSummedOverGlobalBatch = true
    return sum
}
