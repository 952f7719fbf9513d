import CMPI
import Foundation
import InkwellDistributed
import InkwellEngine

/// The MPI world (OpenMPI) as a `Communicator`: the job `mpirun -np N` (or `srun`, or any
/// launcher that sets up an MPI world) started.
///
/// Calls return errors instead of aborting inside MPI (MPI_ERRORS_RETURN); a failed call ends
/// the job with `MPI_Abort` and a message naming the rank and the call. A rank that dies makes
/// the launcher end every other rank (OpenMPI's own behaviour), so no rank waits forever.
///
/// MPI is initialised `MPI_THREAD_MULTIPLE`: the training thread makes every call but the
/// gradient sums that `startSum` starts, which a `SumThread` runs on a communicator of its own so
/// that they move while the training thread computes. Where the MPI library does not offer that
/// level, the sums progress on the training thread (inside `PendingReduction.progress`).
///
/// Sendable unchecked: its stored values never change after `init`, and every call but the sum
/// thread's must come from the training thread, which the type cannot express.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm
    /// Runs `startSum`'s sums; nil where MPI does not offer MPI_THREAD_MULTIPLE.
    private var sums: SumThread?

    /// Environment variables that MPI launchers set in the processes they start.
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"]

    /// The MPI world when this process was started by an MPI launcher; nil when it was started
    /// plainly (nothing of MPI is touched then).
    public static func launchedWorld() -> MPICommunicator? {
        let environment = ProcessInfo.processInfo.environment
        guard launcherVariables.contains(where: { environment[$0] != nil }) else { return nil }
        return MPICommunicator()
    }

    /// Why this process must not run: Slurm's `srun` started several tasks without an MPI plugin
    /// (no PMI/PMIx in their environment), so each would run the whole job alone; nil otherwise.
    public static func slurmStepWithoutMPI() -> String? {
        let environment = ProcessInfo.processInfo.environment
        guard !launcherVariables.contains(where: { environment[$0] != nil }),
              let tasks = Int(environment["SLURM_STEP_NUM_TASKS"] ?? ""), tasks > 1 else { return nil }
        return "srun started \(tasks) tasks without an MPI plugin, so each would run the whole job alone: use srun --mpi=pmix (or MpiDefault=pmix in slurm.conf)"
    }

    /// Initialises MPI (once per process) and registers its finalisation at exit.
    private init() {
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided)
        guard rc == MPI_SUCCESS else {
            FileHandle.standardError.write(Data("inkwell: MPI_Init_thread failed (\(rc)); was this started by an MPI launcher?\n".utf8))
            exit(1)
        }
        world = inkwell_mpi_comm_world()
        MPI_Comm_set_errhandler(world, inkwell_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
        atexit {
            var finalized: Int32 = 0
            MPI_Finalized(&finalized)
            if finalized == 0 { MPI_Finalize() }
        }
        if provided >= Int32(MPI_THREAD_MULTIPLE) { sums = SumThread(owner: self, world: world) }
    }

    /// Whether `startSum`'s sums run on a thread of their own (MPI_THREAD_MULTIPLE).
    public var sumsOnTheirOwnThread: Bool { sums != nil }

    /// Ends the job when `code` is not MPI_SUCCESS, naming the rank, the call and MPI's reason.
    func check(_ code: Int32, _ call: String) {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let reason = String(decoding: text.prefix(Int(max(0, length))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        abort("\(call) failed: \(reason)", code: 70)
    }

    public func sumAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) {
        guard values.count > 0 else { return }
        check(MPI_Allreduce(inkwell_mpi_in_place(), values.baseAddress, Int32(values.count), inkwell_mpi_double(), inkwell_mpi_sum(), world),
              "MPI_Allreduce (sum of \(values.count) doubles)")
    }

    public func maxAcrossBatch(_ values: UnsafeMutableBufferPointer<Double>) {
        guard values.count > 0 else { return }
        check(MPI_Allreduce(inkwell_mpi_in_place(), values.baseAddress, Int32(values.count), inkwell_mpi_double(), inkwell_mpi_max(), world),
              "MPI_Allreduce (max of \(values.count) doubles)")
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard values.count > 0 else { return }
        check(MPI_Allreduce(inkwell_mpi_in_place(), values.baseAddress, Int32(values.count), inkwell_mpi_float(), inkwell_mpi_sum(), world),
              "MPI_Allreduce (sum of \(values.count) floats)")
    }

    public func gatherAcrossBatch(_ rows: UnsafeBufferPointer<Float>, rowLength: Int) -> Tensor {
        let counts = gather(UInt64(rows.count)).map { Int($0) }
        let total = counts.reduce(0, +)
        guard total <= Int(Int32.max) else { abort("MPI_Allgatherv: \(total) floats are more than one call takes", code: 70) }
        let out = Tensor(shape: [total / max(rowLength, 1), rowLength], storage: TensorStorage(count: total, zeroed: false))
        let recvCounts = counts.map { Int32($0) }
        let displacements = counts.indices.map { Int32(counts[..<$0].reduce(0, +)) }
        check(MPI_Allgatherv(rows.baseAddress, Int32(rows.count), inkwell_mpi_float(), out.pointer, recvCounts, displacements,
                             inkwell_mpi_float(), world), "MPI_Allgatherv (\(total) floats)")
        return out
    }

    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction {
        let call = "MPI_Iallreduce (sum of \(values.count) floats)"
        if let sums, values.count > 0 { return sums.start(values, call: call) }
        let pending = Pending(self, call)
        guard values.count > 0 else { return pending }
        startSum(values, on: world, &pending.request, call)
        return pending
    }

    /// Starts the in-place sum of `values` over `communicator`'s ranks (the world, or the sum
    /// thread's duplicate of it).
    func startSum(_ values: UnsafeMutableBufferPointer<Float>, on communicator: MPI_Comm, _ request: inout MPI_Request?, _ call: String) {
        check(MPI_Iallreduce(inkwell_mpi_in_place(), values.baseAddress, Int32(values.count), inkwell_mpi_float(), inkwell_mpi_sum(),
                             communicator, &request), call)
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        let chunk = 1 << 30
        var offset = 0
        while offset < bytes.count {
            let n = min(chunk, bytes.count - offset)
            check(MPI_Bcast(bytes.baseAddress! + offset, Int32(n), inkwell_mpi_byte(), Int32(root), world), "MPI_Bcast (\(n) bytes)")
            offset += n
        }
    }

    public func gather(_ value: UInt64) -> [UInt64] {
        var mine = value
        var all = [UInt64](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, inkwell_mpi_uint64(), &all, 1, inkwell_mpi_uint64(), world), "MPI_Allgather")
        return all
    }

    /// The tag of `send` / `receive` messages.
    private static let messageTag: Int32 = 15

    public func send(_ bytes: [UInt8], to destination: Int) {
        var data = bytes
        check(data.withUnsafeMutableBytes {
            MPI_Send($0.baseAddress, Int32($0.count), inkwell_mpi_byte(), Int32(destination), Self.messageTag, world)
        }, "MPI_Send (\(bytes.count) bytes to rank \(destination))")
    }

    public func receive(from source: Int) -> [UInt8] {
        var status = MPI_Status()
        var arrived: Int32 = 0
        while arrived == 0 {
            check(MPI_Iprobe(Int32(source), Self.messageTag, world, &arrived, &status), "MPI_Iprobe (from rank \(source))")
            if arrived == 0 { usleep(500) }
        }
        var count: Int32 = 0
        check(MPI_Get_count(&status, inkwell_mpi_byte(), &count), "MPI_Get_count")
        var data = [UInt8](repeating: 0, count: Int(count))
        check(data.withUnsafeMutableBytes {
            MPI_Recv($0.baseAddress, count, inkwell_mpi_byte(), Int32(source), Self.messageTag, world, &status)
        }, "MPI_Recv (\(count) bytes from rank \(source))")
        return data
    }

    public func barrier() {
        var request = inkwell_mpi_request_null()
        check(MPI_Ibarrier(world, &request), "MPI_Ibarrier")
        wait(&request, "MPI_Ibarrier", polling: 500)
    }

    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("inkwell: rank \(rank) of \(size): \(message)\n".utf8))
        MPI_Abort(world, code == 0 ? 1 : code)
        exit(code == 0 ? 1 : code)
    }

    /// Completes `request`: blocks in MPI_Wait (`polling` nil), or tests it every `polling`
    /// microseconds and sleeps between tests, so that a long wait (e.g. while rank 0 evaluates) or
    /// the sum thread does not spin a core the computation needs.
    func wait(_ request: inout MPI_Request?, _ call: String, polling: UInt32?) {
        guard let polling else {
            check(MPI_Wait(&request, inkwell_mpi_status_ignore()), call)
            return
        }
        var done: Int32 = 0
        while done == 0 {
            check(MPI_Test(&request, &done, inkwell_mpi_status_ignore()), call)
            if done == 0 { usleep(polling) }
        }
    }

    private final class Pending: PendingReduction {
        var request: MPI_Request? = inkwell_mpi_request_null()
        let call: String
        unowned let owner: MPICommunicator
        init(_ owner: MPICommunicator, _ call: String) { self.owner = owner; self.call = call }
        func wait() { owner.wait(&request, call, polling: nil) }
        func progress() {
            var done: Int32 = 0
            owner.check(MPI_Test(&request, &done, inkwell_mpi_status_ignore()), call)
        }
    }
}
