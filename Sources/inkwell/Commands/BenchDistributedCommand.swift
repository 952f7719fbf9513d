import ArgumentParser
import Foundation
import Inkwell
import InkwellBenchmarks

/// `mpirun -np 2 --bind-to none inkwell bench distributed`: the figures of data-parallel training
/// (docs/DISTRIBUTED.md): bytes summed per step at the reference widths, allreduce bandwidth
/// between the ranks, step time of N ranks x 1 thread against 1 process x N threads at the same
/// global batch (interleaved, in this invocation), and the share of a step spent in collectives.
struct BenchDistributedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Measure data-parallel training under mpirun (bytes, bandwidth, step time, communication share).",
        discussion: "Run under mpirun with --bind-to none, so that the one-process comparison may use every core."
    )

    @Option(help: "Model widths of the timed steps: narrow (default) or reference.")
    var preset: String = "narrow"

    @Option(help: "Global batch of the timed steps.")
    var batch: Int = 16

    @Option(help: "Timed rounds (each one distributed step and one single-process step), after a warm-up round.")
    var steps: Int = 5

    @Option(help: "MiB per allreduce in the bandwidth test.")
    var megabytes: Int = 25

    @Option(help: "Allreduces timed in the bandwidth test.")
    var repeats: Int = 10

    func validate() throws {
        guard ["reference", "narrow"].contains(preset) else { throw ValidationError("--preset must be reference or narrow") }
        guard steps >= 1, repeats >= 1, megabytes >= 1 else { throw ValidationError("--steps, --repeats and --megabytes must be at least 1") }
    }

    func run() throws {
        let world = World.communicator
        if !world.isRoot { RankOutput.silenceStandardOutput() }
        try printBytesPerStep()
        guard world.isDistributed else {
            print("one process: run under mpirun (e.g. mpirun -np 2 --bind-to none inkwell bench distributed) for the other figures")
            return
        }
        guard batch >= max(2, world.size) else { throw ValidationError("--batch must be at least 2 and at least the \(world.size) ranks") }
        measureBandwidth(world)
        try compareSteps(world)
    }

    /// Bytes each rank contributes to the gradient sums of one seed step at the reference widths:
    /// every sub-update sums the gradients of the optimizers it steps.
    private func printBytesPerStep() throws {
        let model = try VAEGAN(widths: .reference)
        let (e, d, g) = (model.encoder.parameterCount, model.decoder.parameterCount, model.discriminator.parameterCount)
        // Sub-updates 1, 2, 4 step the discriminator; 3, 5 the decoder; 6 encoder + decoder; 7 the encoder.
        let floats = 3 * g + 3 * d + 2 * e
        print(String(format: "bytes summed per step at the reference widths: %.1f MB per rank (encoder %d, decoder %d, discriminator %d parameters; discriminator x3, decoder x3, encoder x2)",
                     Double(floats * 4) / 1e6, e, d, g))
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

    /// Distributed steps (every rank, one thread each) interleaved with one-process steps (rank 0
    /// alone, as many threads as ranks, the others waiting without spinning).
    private func compareSteps(_ world: any Communicator) throws {
        let widths = try ModelWidths.preset(preset)
        let frame = widths.frameSize
        var generator = RandomGenerator(seed: 1)
        let images = Tensor.uniform([batch, widths.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
        let rows = try BatchSplit(global: batch, ranks: world.size).rows(of: world.rank)
        let timed = TimedCommunicator(world)
        let distributed = try makeContext(widths)
        distributed.gradientReducer = GradientReducer(communicator: timed)
        Replicas.broadcast(distributed.model.stateTensors().map(\.1), over: world)
        let distributedNoise = RowsOfGlobalNoise(SeededNoise(seed: 2), globalBatch: batch, rows: rows)
        let single = world.isRoot ? try makeContext(widths) : nil
        let singleNoise = SeededNoise(seed: 2)
        let local = images.rows(rows)
        print("steps: \(preset) widths (\(distributed.model.parameterCount) parameters), global batch \(batch), frames \(frame[1]) x \(frame[0]): \(world.size) ranks x 1 thread vs 1 process x \(world.size) threads, interleaved; OpenBLAS \(BLAS.coreType)")

        var distributedTimes: [Double] = [], singleTimes: [Double] = [], shares: [Double] = [], bytes = 0
        for round in 0...steps {
            setThreads(1)
            world.barrier()
            timed.reset()
            let start = Date()
            _ = try GlobalBatch.spanning(timed) { try SeedSchedule().run(distributed, images: local, noise: distributedNoise) }
            let seconds = maxOverRanks(Date().timeIntervalSince(start), world)
            let communication = timed.seconds
            bytes = timed.bytesSummed
            world.barrier()
            if let single {
                setThreads(world.size)
                let start = Date()
                _ = try SeedSchedule().run(single, images: images, noise: singleNoise)
                if round > 0 { singleTimes.append(Date().timeIntervalSince(start)) }
            }
            world.barrier()
            if round > 0 {
                distributedTimes.append(seconds)
                shares.append(communication / seconds)
            }
        }
        let d = Spread(distributedTimes), s = Spread(singleTimes), c = Spread(shares)
        print(String(format: "%d ranks x 1 thread: %.3f s/step median (spread %.3f-%.3f, %d steps)", world.size, d.median, d.low, d.high, distributedTimes.count))
        print(String(format: "1 process x %d threads: %.3f s/step median (spread %.3f-%.3f, %d steps)", world.size, s.median, s.low, s.high, singleTimes.count))
        print(String(format: "ratio distributed / one process: %.2fx (same invocation, same global batch %d)", d.median / s.median, batch))
        print(String(format: "rank 0 in collectives (gradient sums, batch-norm and loss statistics, waiting for the other ranks): %.1f%% of the step median (spread %.1f-%.1f%%); %.2f MB summed per step by each rank",
                     c.median * 100, c.low * 100, c.high * 100, Double(bytes) / 1e6))
        print("load average \(OpsBenchmark.loadAverage()) (other processes on these cores inflate and scatter the times)")
    }

    private func makeContext(_ widths: ModelWidths) throws -> StepContext {
        let model = try VAEGAN(widths: widths, seed: 0)
        return StepContext(model: model, optimizers: VAEGANOptimizers(model: model), kld: MovingBatchKLD(), beta: DualGradientBeta())
    }

    private func setThreads(_ n: Int) {
        BLAS.threads = n
        Parallel.workers = n
    }

    private func maxOverRanks(_ value: Double, _ world: any Communicator) -> Double {
        var v = [value]
        v.withUnsafeMutableBufferPointer { world.maxAcrossBatch($0) }
        return v[0]
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
