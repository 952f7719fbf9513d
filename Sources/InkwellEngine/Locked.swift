import Foundation

/// A value shared between threads, read and written under a lock: the engine's process-wide
/// settings (`Parallel.workers`, the convolution lowering switches) and caches (`BufferArena`,
/// `Profiler`) live in one of these instead of in unprotected globals.
public final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    public init(_ value: Value) { stored = value }

    /// Runs `body` with the value, alone: no other thread reads or writes it meanwhile.
    @discardableResult
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&stored)
    }

    /// The current value (a copy, read under the lock); setting replaces it under the lock.
    public var value: Value {
        get { withLock { $0 } }
        set { withLock { $0 = newValue } }
    }
}
