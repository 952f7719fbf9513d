import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks
import InkwellMPI

/// `mpirun -np 2 --bind-to none inkwell bench distributed`: the figures of data-parallel training
/// (docs/DISTRIBUTED.md): bytes per step at the reference widths, allreduce bandwidth
/// between the ranks, step time of N ranks x 1 thread against 1 process x N threads at the same
/// global batch (interleaved, in this invocation), and the share of a step spent in collectives.
struct BenchDistributedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Measure data-parallel training under mpirun (bytes, bandwidth, step time, communication share).",
        discussion: "Run under mpirun with --bind-to none, so that the one-process comparison may use every core."
    )

    @Option(help: "Model widths of the timed steps: narrow (default), cpu or reference.")
    var preset: String = "narrow"

    @Option(help: "Global batch of the timed steps.")
    var batch: Int = 16

    @Option(help: "Timed rounds (each one distributed step and one single-process step), after a warm-up round.")
    var steps: Int = 5

    @Option(help: "Gradient sums of the distributed steps: blocking (after each backward pass), overlapped (during it) or both (interleaved).")
    var gradientSums: String = "both"

    @Option(help: "MiB at which a gradient bucket closes (PyTorch DDP's bucket_cap_mb: 25).")
    var bucketMib: Double = 25

    @Option(help: "MiB at which each backward pass's first gradient bucket closes (PyTorch DDP's: 1).")
    var firstBucketMib: Double = 1

    @Option(help: "MiB per allreduce in the bandwidth test.")
    var megabytes: Int = 25

    @Option(help: "Allreduces timed in the bandwidth test.")
    var repeats: Int = 10

    func validate() throws {
        guard ModelWidths.presetNames.contains(preset) else {
            throw ValidationError("--preset must be one of \(ModelWidths.presetNames.joined(separator: ", "))")
        }
        guard ["blocking", "overlapped", "both"].contains(gradientSums) else { throw ValidationError("--gradient-sums must be blocking, overlapped or both") }
        guard firstBucketMib > 0, bucketMib > 0 else { throw ValidationError("--bucket-mib and --first-bucket-mib must be positive") }
        guard steps >= 1, repeats >= 1, megabytes >= 1 else { throw ValidationError("--steps, --repeats and --megabytes must be at least 1") }
    }

    func run() throws {
        let world = World.communicator
        if !world.isRoot { RankOutput.silenceStandardOutput() }
        try printBytesPerStep(ranks: max(world.size, 2))
        guard world.isDistributed else {
            print("one process: run under mpirun (e.g. mpirun -np 2 --bind-to none inkwell bench distributed) for the other figures")
            return
        }
        guard batch >= max(2, world.size) else { throw ValidationError("--batch must be at least 2 and at least the \(world.size) ranks") }
        measureBandwidth(world)
        try compareSteps(world)
    }

    /// Where the started gradient sums move: on a thread of their own, or inside the training thread's tests.
    private func sumsThread(_ world: any Communicator) -> String {
        let mpi = ((world as? TimedCommunicator)?.base ?? world) as? MPICommunicator
        return mpi?.sumsOnTheirOwnThread == true ? "on a thread of their own" : "on the training thread"
    }

    /// Bytes each rank contributes per seed step at the reference widths: every sub-update sums
    /// the gradients of the optimizers it steps, except the large linear weights' (`linear`), made
    /// from the global batch's gathered rows; and what summing every gradient would take.
    private func printBytesPerStep(ranks: Int) throws {
        let model = try VAEGAN(widths: .reference)
        // Sub-updates 1, 2, 4 step the discriminator; 3, 5 the decoder; 6 encoder + decoder; 7 the encoder.
        let stepped: [(parameters: [Tensor], times: Int)] = [(model.discriminator.parameters, 3), (model.decoder.parameters, 3), (model.encoder.parameters, 2)]
        let localRows = (batch + ranks - 1) / ranks
        var summed = 0, gathered = 0, all = 0
        for (parameters, times) in stepped {
            for p in parameters {
                all += times * p.count
                if p.rank == 2, GlobalBatch.gathersFactors(inFeatures: p.shape[1], outFeatures: p.shape[0], rows: batch) {
                    gathered += times * localRows * (p.shape[0] + p.shape[1])
                } else {
                    summed += times * p.count
                }
            }
        }
        print(String(format: "bytes per step at the reference widths, global batch %d over %d ranks: %.1f MB per rank (%.1f MB of gradients summed, %.1f MB of the large linear layers' rows gathered), against %.1f MB summing every gradient",
                     batch, ranks, Double((summed + gathered) * 4) / 1e6, Double(summed * 4) / 1e6, Double(gathered * 4) / 1e6, Double(all * 4) / 1e6))
    }

    /// Allreduce (sum) of `megabytes` MiB of floats, `repeats` times.
    private func measureBandwidth(_ world: any Communicator) {
        let count = megabytes << 18
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        world.sum(buffer)
        var times: [Double] = []
        for _ in 0..<repeats {
            world.barrier()
            let start = Date()
            world.sum(buffer)
            times.append(maxOverRanks(Date().timeIntervalSince(start), world))
        }
        let bytes = Double(count * 4)
        let stats = Spread(times)
        let busFactor = 2 * Double(world.size - 1) / Double(world.size)
        print(String(format: "allreduce %d MiB over %d ranks: %.1f ms median (spread %.1f-%.1f ms, %d runs): %.2f GB/s algorithm bandwidth, %.2f GB/s bus bandwidth (%.1f Gb/s)",
                     megabytes, world.size, stats.median * 1e3, stats.low * 1e3, stats.high * 1e3, times.count,
                     bytes / stats.median / 1e9, bytes * busFactor / stats.median / 1e9, bytes * busFactor * 8 / stats.median / 1e9))
    }

    /// Distributed steps (every rank, one thread each; for each gradient-sum mode) interleaved
    /// with one-process steps (rank 0 alone, as many threads as ranks, the others waiting without
    /// spinning).
    private func compareSteps(_ world: any Communicator) throws {
        let widths = try ModelWidths.preset(preset)
        let frame = widths.frameSize
        var generator = RandomGenerator(seed: 1)
        let images = Tensor.uniform([batch, widths.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
        let rows = try BatchSplit(global: batch, ranks: world.size).rows(of: world.rank)
        let timed = TimedCommunicator(world)
        let distributed = try makeContext(widths)
        let reducer = GradientReducer(communicator: timed, bucketBytes: Int(bucketMib * 1_048_576),
                                       firstBucketBytes: Int(firstBucketMib * 1_048_576))
        distributed.gradientReducer = reducer
        Replicas.broadcast(distributed.model.stateTensors().map(\.1), over: world)
        let distributedNoise = RowsOfGlobalNoise(SeededNoise(seed: 2), globalBatch: batch, rows: rows)
        let single = world.isRoot ? try makeContext(widths) : nil
        let singleNoise = SeededNoise(seed: 2)
        let local = images.rows(rows)
        let modes = gradientSums == "both" ? [false, true] : [gradientSums == "overlapped"]
        print("steps: \(preset) widths (\(distributed.model.parameterCount) parameters), global batch \(batch), frames \(frame[1]) x \(frame[0]): \(world.size) ranks x 1 thread (gradient sums \(modes.map { $0 ? "overlapped" : "blocking" }.joined(separator: ", "))) vs 1 process x \(world.size) threads, interleaved; buckets \(Double(reducer.bucketBytes) / 1_048_576) MiB, the first \(Double(reducer.firstBucketBytes) / 1_048_576) MiB, summed \(sumsThread(world)); OpenBLAS \(BLAS.coreType)")

        var measured: [Bool: [DistributedStep]] = [:], singleTimes: [Double] = []
        for round in 0...steps {
            for overlapped in modes {
                reducer.overlapsBackward = overlapped
                let step = try DistributedStep(world, timed: timed, reducer: reducer) {
                    _ = try SeedSchedule().run(distributed, images: local, noise: distributedNoise)
                }
                if round > 0 { measured[overlapped, default: []].append(step) }
            }
            if let single {
                setThreads(world.size)
                let start = Date()
                _ = try SeedSchedule().run(single, images: images, noise: singleNoise)
                if round > 0 { singleTimes.append(Date().timeIntervalSince(start)) }
            }
            world.barrier()
        }
        let s = Spread(singleTimes)
        print(String(format: "1 process x %d threads: %.3f s/step median (spread %.3f-%.3f, %d steps)", world.size, s.median, s.low, s.high, singleTimes.count))
        for overlapped in modes { report(measured[overlapped] ?? [], overlapped: overlapped, ranks: world.size, single: s.median) }
        if let blocking = measured[false], let overlapped = measured[true] {
            let hidden = 1 - Spread(overlapped.map(\.gradientSums)).median / Spread(blocking.map(\.gradientSums)).median
            print(String(format: "gradient-sum time hidden by overlapping with the backward pass: %.1f%% (1 - overlapped / blocking medians of rank 0's time in the sums)", hidden * 100))
        }
        print("load average \(OpsBenchmark.loadAverage()) (other processes on these cores inflate and scatter the times)")
    }

    /// One mode's figures: step time, its ratio to one process, rank 0's share in collectives and
    /// its time in the gradient sums.
    private func report(_ steps: [DistributedStep], overlapped: Bool, ranks: Int, single: Double) {
        let mode = overlapped ? "overlapped" : "blocking"
        let d = Spread(steps.map(\.seconds)), c = Spread(steps.map { $0.collectives / $0.seconds }), g = Spread(steps.map(\.gradientSums))
        print(String(format: "%d ranks x 1 thread, %@ gradient sums: %.3f s/step median (spread %.3f-%.3f, %d steps); %.2fx one process",
                     ranks, mode, d.median, d.low, d.high, steps.count, d.median / single))
        print(String(format: "  rank 0 in collectives (gradient sums, batch-norm and loss statistics, waiting for the other ranks): %.1f%% of the step median (spread %.1f-%.1f%%); %.2f MB summed or gathered per step by each rank",
                     c.median * 100, c.low * 100, c.high * 100, Double(steps.last?.bytes ?? 0) / 1e6))
        print(String(format: "  rank 0 in the gradient sums outside the backward pass's work: %.3f s median (spread %.3f-%.3f); %d of %d buckets started during a backward pass",
                     g.median, g.low, g.high, steps.last?.bucketsEarly ?? 0, steps.last?.buckets ?? 0))
        guard steps.allSatisfy({ $0.transfers > 0 }) else { return }
        let t = Spread(steps.map(\.transfers)), w = Spread(steps.map(\.waiting)), h = Spread(steps.map { 1 - $0.waiting / $0.transfers })
        print(String(format: "  gradient transfers (on the sums' thread): %.3f s/step median (spread %.3f-%.3f); rank 0 waited for them %.3f s (spread %.3f-%.3f): %.1f%% of their time hidden behind computation (spread %.1f-%.1f%%)",
                     t.median, t.low, t.high, w.median, w.low, w.high, h.median * 100, h.low * 100, h.high * 100))
    }

    private func makeContext(_ widths: ModelWidths) throws -> StepContext {
        let model = try VAEGAN(widths: widths, seed: 0)
        return StepContext(model: model, optimizers: VAEGANOptimizers(model: model), kld: MovingBatchKLD(), beta: DualGradientBeta())
    }
}

/// Sets the threads of OpenBLAS and the engine.
private func setThreads(_ n: Int) {
    BLAS.threads = n
    Parallel.workers = n
}

/// The largest of every rank's `value`.
private func maxOverRanks(_ value: Double, _ world: any Communicator) -> Double {
    var v = [value]
    v.withUnsafeMutableBufferPointer { world.maxAcrossBatch($0) }
    return v[0]
}

/// One timed data-parallel step (every rank one thread): its time (the slowest rank's), and rank
/// 0's seconds in collectives and in the gradient sums, bytes summed and buckets per step.
private struct DistributedStep {
    let seconds: Double, collectives: Double, gradientSums: Double
    /// Rank 0's seconds waiting for the gradient sums, and their transfers' seconds (0 where unmeasured).
    let waiting: Double, transfers: Double
    let bytes: Int, buckets: Int, bucketsEarly: Int

    init(_ world: any Communicator, timed: TimedCommunicator, reducer: GradientReducer, _ body: () throws -> Void) throws {
        setThreads(1)
        world.barrier()
        timed.reset()
        let (sums, buckets, early) = (reducer.seconds, reducer.buckets, reducer.bucketsStartedDuringBackward)
        let (waited, transferred) = (reducer.waitingSeconds, reducer.transferSeconds)
        let start = Date()
        try GlobalBatch.spanning(timed) { try body() }
        seconds = maxOverRanks(Date().timeIntervalSince(start), world)
        collectives = timed.seconds
        bytes = timed.bytesContributed
        gradientSums = reducer.seconds - sums
        waiting = reducer.waitingSeconds - waited
        transfers = reducer.transferSeconds - transferred
        self.buckets = reducer.buckets - buckets
        bucketsEarly = reducer.bucketsStartedDuringBackward - early
        world.barrier()
    }
}

/// Median and range of measurements.
struct Spread {
    let median: Double, low: Double, high: Double
    init(_ values: [Double]) {
        let sorted = values.sorted()
        median = sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        low = sorted.first ?? .nan
        high = sorted.last ?? .nan
    }
}
