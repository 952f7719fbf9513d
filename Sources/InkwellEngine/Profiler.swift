import Foundation

/// Wall time per op kind, forward and backward, when the environment variable
/// `INKWELL_PROFILE` is set (to anything); printed to standard error when the process exits.
///
/// Forward time is attributed at the moment an op records itself: the time since the previous
/// recorded op (or since the last backward) goes to this op, so work between ops that record
/// nothing (ops under `withoutGrad`, loss bookkeeping) lands on the next op that records. Backward
/// time is exact per node (its backward closure plus gradient accumulation). Off by default: the
/// cost then is one branch per op.
public enum Profiler {
    public static let isEnabled: Bool = ProcessInfo.processInfo.environment["INKWELL_PROFILE"] != nil

    nonisolated(unsafe) private static var forward: [String: (seconds: Double, calls: Int)] = [:]
    nonisolated(unsafe) private static var backward: [String: (seconds: Double, calls: Int)] = [:]
    nonisolated(unsafe) private static var lastMark: UInt64 = 0
    nonisolated(unsafe) private static var registered = false

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func register() {
        guard !registered else { return }
        registered = true
        atexit { Profiler.printReport() }
    }

    /// Attributes the time since the previous mark to `op`'s forward.
    static func markForward(_ op: String) {
        register()
        let t = now()
        if lastMark != 0 {
            let s = Double(t - lastMark) / 1e9
            forward[op, default: (0, 0)].seconds += s
            forward[op, default: (0, 0)].calls += 1
        }
        lastMark = t
    }

    /// Adds `seconds` to `op`'s backward.
    static func addBackward(_ op: String, since start: UInt64) {
        register()
        let t = now()
        backward[op, default: (0, 0)].seconds += Double(t - start) / 1e9
        backward[op, default: (0, 0)].calls += 1
        lastMark = t
    }

    /// Prints the table (seconds, calls, share) to standard error.
    public static func printReport() {
        let total = forward.values.reduce(0) { $0 + $1.seconds } + backward.values.reduce(0) { $0 + $1.seconds }
        guard total > 0 else { return }
        var lines = [String(format: "INKWELL_PROFILE: %.2f s in recorded ops (forward attributed between ops)", total)]
        let rows = forward.map { ("fwd " + $0.key, $0.value) } + backward.map { ("bwd " + $0.key, $0.value) }
        for (name, v) in rows.sorted(by: { $0.1.seconds > $1.1.seconds }) {
            lines.append(String(format: "  %-28@ %9.3f s %7d calls %5.1f%%", name as NSString, v.seconds, v.calls, 100 * v.seconds / total))
        }
        let arena = BufferArena.statistics
        lines.append(String(format: "  buffer arena: %d reuses of freed blocks, %d growths (%.1f GB of fresh pages) for buffers >= 1 MiB; %d MiB touched, at most %d MiB in use at once",
                            arena.reuses, arena.growths, Double(arena.grownBytes) / 1e9, arena.touchedBytes >> 20, arena.highWaterBytes >> 20))
        FileHandle.standardError.write((lines.joined(separator: "\n") + "\n").data(using: .utf8)!)
    }
}
