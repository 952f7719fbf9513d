import Foundation
import InkwellDistributed
import InkwellEngine
import InkwellMPI
import InkwellTraining

/// `inkwell-test-scenarios sums blocking|overlapped FIRST_BUCKET_BYTES BUCKET_BYTES STEPS CONFIG`,
/// under an MPI launcher: STEPS data-parallel steps of CONFIG's model and schedule on seeded
/// images, with the gradient sums in buckets of BUCKET_BYTES (each pass's first:
/// FIRST_BUCKET_BYTES) started after each backward pass (blocking) or during it (overlapped).
/// Rank 0 prints the digest of the weights and optimizer state, how many buckets started during a
/// backward pass, and whether the sums ran on a thread of their own with their transfers timed
/// (DataParallelTrainingTests compares the two modes).
func gradientSums(_ arguments: [String]) -> Int32 {
    guard arguments.count == 5, ["blocking", "overlapped"].contains(arguments[0]),
          let firstBucketBytes = Int(arguments[1]), let bucketBytes = Int(arguments[2]), let steps = Int(arguments[3]) else {
        FileHandle.standardError.write(Data("usage: inkwell-test-scenarios sums blocking|overlapped FIRST_BUCKET_BYTES BUCKET_BYTES STEPS CONFIG\n".utf8))
        return 64
    }
    guard let world = oneThreadedRank("sums") else { return 64 }
    do {
        let config = try TrainingConfiguration.load(from: URL(fileURLWithPath: arguments[4])).resolved()
        let model = try VAEGAN(widths: config.model, seed: config.seed)
        let optimizers = VAEGANOptimizers(model: model)
        let context = StepContext(model: model, optimizers: optimizers, kld: try StrategyRegistry.makeKLD(config.kld),
                                  beta: try StrategyRegistry.makeBeta(config.beta))
        let reducer = GradientReducer(communicator: world, bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes,
                                      overlapsBackward: arguments[0] == "overlapped")
        context.gradientReducer = reducer
        let schedule = try StrategyRegistry.makeSchedule(config.schedule)
        let rows = try BatchSplit(global: config.batch, ranks: world.size).rows(of: world.rank)
        let noise = RowsOfGlobalNoise(SeededNoise(seed: 5), globalBatch: config.batch, rows: rows)
        var generator = RandomGenerator(seed: 3)
        let frame = config.model.frameSize
        for _ in 0..<steps {
            let images = Tensor.uniform([config.batch, config.model.channels, frame[0], frame[1]], low: -1, high: 1, using: &generator)
            _ = try GlobalBatch.spanning(world) { try schedule.run(context, images: images.rows(rows), noise: noise) }
        }
        let state = model.stateTensors().map(\.1) + optimizers.named.flatMap { $0.1.stateTensors().map(\.1) }
        let divergent = Replicas.divergentRanks(state, over: world)
        if world.isRoot {
            print("sums \(arguments[0]): digest \(String(Replicas.digest(state), radix: 16)), divergent ranks \(divergent), \(reducer.buckets) buckets, \(reducer.bucketsStartedDuringBackward) started during a backward pass; \(world.sumsOnTheirOwnThread ? "on the sums' thread" : "on the training thread"), transfers \(reducer.transferSeconds > 0 ? "timed" : "untimed")")
        }
    } catch {
        world.abort("\(error)", code: 1)
    }
    return 0
}
