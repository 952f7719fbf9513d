import Foundation

/// A dense, contiguous, row-major tensor of `Float32` values that records the ops applied to it
/// for reverse-mode automatic differentiation.
///
/// Images are NCHW. A tensor is a reference type: parameters are updated in place by optimizers,
/// while every op returns a new tensor. A tensor that `requiresGrad` and has no producing op is a
/// *leaf*; `backward()` accumulates gradients into leaves' `grad` until they are cleared.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: TensorStorage
    /// Whether gradients flow to (and, for a leaf, accumulate in) this tensor.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf, or nil when cleared.
    public var grad: Tensor?
    /// Whether this gradient already covers every process's samples in a data-parallel step (a
    /// linear layer's weight gradient made from the gathered factors, `linear`): the gradient
    /// reducer leaves it as it is. False everywhere else.
    public internal(set) var isSummedOverGlobalBatch = false
    /// The op that produced this tensor, while its graph is alive.
    internal var node: GradNode?
    /// For a recorded tensor that is a cheap function of another (a padded copy): how to make
    /// its values again. An op that saves such a tensor for its backward keeps this recipe (and
    /// the source's values) instead of the tensor's own, larger, values.
    internal var recomputation: Recomputation?

    /// Wraps `storage` (shared, not copied) with `shape`.
    public init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(Shape.describe(shape))")
        precondition(Shape.count(shape) == storage.count,
                     "Tensor: shape \(Shape.describe(shape)) needs \(Shape.count(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(count: Shape.count(shape)), requiresGrad: requiresGrad)
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        let storage = TensorStorage(count: Shape.count(shape), zeroed: false)
        storage.pointer.initialize(repeating: value, count: storage.count)
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A tensor holding a copy of `values` (row-major) with `shape`.
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        guard Shape.count(shape) == values.count else {
            fatalError("Tensor: shape \(Shape.describe(shape)) needs \(Shape.count(shape)) values, got \(values.count)")
        }
        let storage = TensorStorage(count: values.count, zeroed: false)
        values.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: values.count) }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], values: [scalar], requiresGrad: requiresGrad)
    }

    /// An uninitialised tensor for ops to fill.
    internal static func empty(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: Shape.count(shape), zeroed: false))
    }

    // MARK: - Access

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { storage.buffer }
    /// The values, copied out in row-major order.
    public var values: [Float] { Array(storage.buffer) }
    /// The value of a one-element tensor.
    public var item: Float {
        guard count == 1 else { fatalError("Tensor.item: needs one element, shape is \(Shape.describe(shape))") }
        return pointer[0]
    }
    /// Whether this tensor was produced by an op that is still recorded.
    public var isLeaf: Bool { node == nil }

    /// Copies `other`'s values into this tensor in place (shapes must have the same element count
    /// and, unless `reshaping`, be equal). Not recorded by autograd.
    public func copy(from other: Tensor, reshaping: Bool = false) {
        if reshaping {
            guard count == other.count else { shapeMismatch("Tensor.copy(from:)", shape, other.shape) }
        } else if shape != other.shape {
            shapeMismatch("Tensor.copy(from:)", shape, other.shape)
        }
        if other.storage !== storage { pointer.update(from: other.pointer, count: count) }
        storage.markMutated()
    }

    /// A deep copy that does not require grad.
    public func clone() -> Tensor {
        let out = Tensor.empty(shape)
        out.pointer.update(from: pointer, count: count)
        return out
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = values.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(\(Shape.describe(shape))\(requiresGrad ? ", requiresGrad" : ""): [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}
