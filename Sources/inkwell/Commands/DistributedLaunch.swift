import Foundation
import Synchronization
import Inkwell
import InkwellMPI

/// Start-up under an MPI launcher (docs/DISTRIBUTED.md): the MPI world becomes
/// `World.communicator`, and each rank defaults to its share of the machine's cores.
enum DistributedLaunch {
    /// Installs the MPI world when an MPI launcher started this process; does nothing otherwise.
    /// Several Slurm tasks started without MPI stop at once (exit status 64), saying why.
    static func installWorldIfLaunched() {
        if let problem = MPICommunicator.slurmStepWithoutMPI() {
            FileHandle.standardError.write(Data("inkwell: \(problem)\n".utf8))
            exit(64)
        }
        guard let world = MPICommunicator.launchedWorld() else { return }
        World.communicator = world
        let environment = ProcessInfo.processInfo.environment
        let local = Int(environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? environment["SLURM_NTASKS_PER_NODE"] ?? "") ?? 1
        // Slurm says how many cores a task has; otherwise the ranks on this machine share its cores.
        let threads = Int(environment["SLURM_CPUS_PER_TASK"] ?? "") ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))
        BLAS.threads = threads
        Parallel.workers = threads
    }
}

/// Where ranks other than 0 write: their standard output and error go to RUN/logs/rank-K.log;
/// errors that end the job also go to the console, prefixed with the rank.
enum RankOutput {
    /// The console's standard error, kept before any redirection.
    private static let savedConsole = Mutex<Int32>(2)
    private static var console: Int32 { savedConsole.withLock { $0 } }

    /// On ranks other than 0, sends standard output and error to RUN/logs/rank-K.log (appended).
    static func redirectToRankLog(runDirectory: String) throws {
        let world = World.communicator
        guard world.isDistributed, !world.isRoot else { return }
        let layout = RunLayout(URL(fileURLWithPath: runDirectory))
        try FileManager.default.createDirectory(at: layout.logs, withIntermediateDirectories: true)
        let path = layout.rankLog(world.rank).path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw RankOutputError("\(path): cannot open the rank's log: \(String(cString: strerror(errno)))") }
        fflush(nil)  // every C stream (standard output and error)
        let saved = dup(2)
        savedConsole.withLock { $0 = saved }
        dup2(fd, 1)
        dup2(fd, 2)
        close(fd)
    }

    /// Discards standard output (a rank other than 0 whose output rank 0 already prints).
    static func silenceStandardOutput() {
        fflush(nil)
        let fd = open("/dev/null", O_WRONLY)
        if fd >= 0 { dup2(fd, 1); close(fd) }
    }

    /// Writes `line` to the console's standard error, with "rank K of N: " after the tool's
    /// name when several ranks run ("inkwell train: rank 1 of 2: data error: ...").
    static func error(_ line: String) {
        let world = World.communicator
        var text = line
        if world.isDistributed {
            if let colon = line.range(of: ": "), line.hasPrefix("inkwell") {
                text = line[..<colon.upperBound] + "\(world.rankName): " + line[colon.upperBound...]
            } else {
                text = "\(world.rankName): \(line)"
            }
        }
        let data = Array((text + "\n").utf8)
        _ = data.withUnsafeBytes { write(console, $0.baseAddress, $0.count) }
        if console != 2 { _ = data.withUnsafeBytes { write(2, $0.baseAddress, $0.count) } }
    }
}

struct RankOutputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
