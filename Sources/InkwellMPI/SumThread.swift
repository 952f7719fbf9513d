import CMPI
import Foundation
import InkwellDistributed

/// Runs the gradient sums that `MPICommunicator.startSum` starts on a thread of their own, one
/// after another in the order they were started, so that a bucket's transfer goes on while the
/// training thread computes the rest of its backward pass.
///
/// MPI moves a non-blocking collective along only inside MPI calls, and OpenMPI has no progress
/// thread of its own for shared memory or TCP: without this thread a bucket advances only when the
/// training thread stops to test it. PyTorch DDP's reducer likewise hands its buckets to a
/// communication thread. The sums run on a duplicate of the world communicator, so they never
/// interleave with the training thread's own collectives (batch statistics, losses, gathers),
/// which need MPI_THREAD_MULTIPLE. Every rank starts the same sums in the same order, so every
/// rank's thread issues the same collectives in the same order.
///
/// Between tests of a transfer the thread sleeps for `pollMicroseconds`, leaving the cores to the
/// computation; with nothing to sum it waits without spinning.
final class SumThread: @unchecked Sendable {
    private let communicator: MPI_Comm
    private unowned let owner: MPICommunicator
    private let condition = NSCondition()
    private var queue: [Job] = []
    static let pollMicroseconds: UInt32 = 50

    /// Duplicates `world` (a collective: every rank makes its thread at start-up) and starts the thread.
    init(owner: MPICommunicator, world: MPI_Comm) {
        var duplicate: MPI_Comm? = nil
        owner.check(MPI_Comm_dup(world, &duplicate), "MPI_Comm_dup")
        communicator = duplicate!
        MPI_Comm_set_errhandler(communicator, inkwell_mpi_errors_return())
        self.owner = owner
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "inkwell-gradient-sums"
        thread.start()
    }

    /// Queues the sum of `values` over every rank, in place.
    func start(_ values: UnsafeMutableBufferPointer<Float>, call: String) -> PendingReduction {
        let job = Job(values: values, call: call, condition: condition)
        condition.lock()
        queue.append(job)
        condition.broadcast()
        condition.unlock()
        return job
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let job = queue.removeFirst()
            condition.unlock()
            let began = Date()
            sum(job)
            let seconds = Date().timeIntervalSince(began)
            condition.lock()
            job.seconds = seconds
            condition.broadcast()
            condition.unlock()
        }
    }

    private func sum(_ job: Job) {
        var request: MPI_Request? = inkwell_mpi_request_null()
        owner.startSum(job.values, on: communicator, &request, job.call)
        owner.wait(&request, job.call, polling: Self.pollMicroseconds)
    }

    /// One queued sum; `seconds` (nil until the sum is done) is guarded by the thread's condition.
    final class Job: PendingReduction, @unchecked Sendable {
        let values: UnsafeMutableBufferPointer<Float>
        let call: String
        private let condition: NSCondition
        var seconds: Double?

        init(values: UnsafeMutableBufferPointer<Float>, call: String, condition: NSCondition) {
            self.values = values; self.call = call; self.condition = condition
        }

        func wait() {
            condition.lock()
            while seconds == nil { condition.wait() }
            condition.unlock()
        }

        /// Nothing to do: the thread moves the transfer along.
        func progress() {}

        var transferSeconds: Double? {
            condition.lock()
            defer { condition.unlock() }
            return seconds
        }
    }
}
