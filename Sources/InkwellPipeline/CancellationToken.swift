import Dispatch
import Foundation

/// The one way work is asked to stop: set by `cancel()`, or by SIGINT / SIGTERM once
/// `trapInterrupts(message:secondSignalExitStatus:)` installed the process's signal trap.
/// Long-running work (stages, the training loop) polls `isCancelled` between units of work.
///
/// `inkwell run` and `inkwell train` both trap the signals through it: a signal writes a message,
/// the work finishes its current step (training writes a checkpoint) and the command exits.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var sources: [DispatchSourceSignal] = []

    public init() {}

    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    public func cancel() { lock.lock(); cancelled = true; lock.unlock() }

    /// A token that SIGINT and SIGTERM cancel instead of ending the process. Each signal writes
    /// `message` to standard error (on a line of its own); with `secondSignalExitStatus`, a signal
    /// that arrives once the token is already cancelled ends the process at once with that status
    /// (e.g. 130: interrupted). The trap holds until `releaseSignals()`.
    public static func trappingInterrupts(message: String, secondSignalExitStatus: Int32? = nil) -> CancellationToken {
        let token = CancellationToken()
        token.trapInterrupts(message: message, secondSignalExitStatus: secondSignalExitStatus)
        return token
    }

    /// Makes SIGINT and SIGTERM cancel this token (see `trappingInterrupts`).
    public func trapInterrupts(message: String, secondSignalExitStatus: Int32? = nil) {
        let text = Data(("\n" + message + "\n").utf8)
        var installed: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            // Ignored first, so the signal reaches only the dispatch source.
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(text)
                if let status = secondSignalExitStatus, isCancelled { exit(status) }
                cancel()
            }
            source.resume()
            installed.append(source)
        }
        lock.lock(); sources += installed; lock.unlock()
    }

    /// Stops turning signals into cancellation (they stay ignored until the process ends).
    public func releaseSignals() {
        lock.lock(); let installed = sources; sources = []; lock.unlock()
        installed.forEach { $0.cancel() }
    }
}
