import Foundation

/// A 64-byte aligned, contiguous buffer of `Float`s that tensors share (a reshape or a
/// `detach` shares its storage; every op writes a new one).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Bytes actually held (at least `count` floats; see `BufferArena`).
    private let capacity: Int
    /// Bumped by every in-place write through the engine's API (optimizer steps, `copy(from:)`);
    /// a graph that saved this storage checks it before back-propagating through it.
    public internal(set) var version: Int = 0

    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let (raw, capacity) = BufferArena.allocate(bytes)
        self.capacity = capacity
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { BufferArena.release(UnsafeMutableRawPointer(pointer), capacity: capacity) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public func markMutated() { version &+= 1 }
}
