import Foundation
import InkwellDataset
import InkwellDistributed

/// Training started by something other than `inkwell train` under an MPI launcher (a pipeline's
/// train stage in `inkwell run`): the trainer's arguments, which rank 0 announces (`RankJobs`).
public struct TrainingJob: Codable, Sendable {
    public var configuration: TrainingConfiguration
    public var runDirectory: String
    public var dataset: String
    public var resume: Bool

    public init(configuration: TrainingConfiguration, runDirectory: URL, dataset: URL, resume: Bool) {
        self.configuration = configuration
        self.runDirectory = runDirectory.path
        self.dataset = dataset.path
        self.resume = resume
    }
}

/// An ingest that the ranks share (a pipeline's ingest stage in `inkwell run`): rank 0 writes the
/// dataset, the others decode their share of the inputs for it (`Ingest.communicator`).
public struct IngestJob: Codable, Sendable {
    public var inputs: [String]
    public var output: String
    public var options: IngestOptions

    public init(inputs: [URL], output: URL, options: IngestOptions) {
        self.inputs = inputs.map(\.path)
        self.output = output.path
        self.options = options
    }

    /// The ingest, shared among the ranks of `communicator`.
    public func ingest(over communicator: any Communicator) -> Ingest {
        let ingest = Ingest(inputs: inputs.map { URL(fileURLWithPath: $0) }, output: URL(fileURLWithPath: output), options: options)
        ingest.communicator = communicator
        return ingest
    }
}

/// What rank 0 asks the other ranks to do with it while it runs a pipeline.
public enum RankJob: Codable, Sendable {
    case train(TrainingJob)
    case ingest(IngestJob)
}

/// `inkwell run` under an MPI launcher: rank 0 runs the pipeline and, at each stage the ranks
/// share (train, ingest), announces the job; the other ranks follow, doing each announced job
/// with it.
public enum RankJobs {
    /// Rank 0: tells the other ranks to do `job` with it now; nil tells them there is no more.
    /// Does nothing in one process.
    public static func announce(_ job: RankJob?, over communicator: any Communicator = World.communicator) throws {
        guard communicator.isDistributed, communicator.isRoot else { return }
        let bytes = try job.map { Array(try JSONEncoder().encode($0)) } ?? []
        communicator.barrier()
        _ = communicator.broadcast(bytes, root: 0)
    }

    /// Ranks other than 0: does every job rank 0 announces (training logs to
    /// RUN/logs/rank-K.log), until rank 0 announces none. Returns the number of jobs done.
    @discardableResult
    public static func follow(over communicator: any Communicator = World.communicator) throws -> Int {
        var jobs = 0
        while true {
            // Waits (sleeping, not spinning) while rank 0 runs the other stages.
            communicator.barrier()
            let bytes = communicator.broadcast(nil, root: 0)
            guard !bytes.isEmpty else { return jobs }
            switch try JSONDecoder().decode(RankJob.self, from: Data(bytes)) {
            case .train(let job): try train(job, over: communicator)
            case .ingest(let job): _ = try job.ingest(over: communicator).run()
            }
            jobs += 1
        }
    }

    private static func train(_ job: TrainingJob, over communicator: any Communicator) throws {
        let run = URL(fileURLWithPath: job.runDirectory)
        let log = try RankLog(run: run, rank: communicator.rank)
        let trainer = try Trainer(configuration: job.configuration, runDirectory: run, dataset: URL(fileURLWithPath: job.dataset),
                                  resume: job.resume, communicator: communicator)
        trainer.log = log.write
        try trainer.run(progress: { log.write($0.line) })
    }
}

/// RUN/logs/rank-K.log, appended one line at a time.
final class RankLog {
    private let handle: FileHandle
    init(run: URL, rank: Int) throws {
        let layout = RunLayout(run)
        let logs = layout.logs, url = layout.rankLog(rank)
        do {
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TrainingError.io("\(url.path): cannot open the rank's log: \(error.localizedDescription)")
        }
    }
    func write(_ line: String) { try? handle.write(contentsOf: Data((line + "\n").utf8)) }
    deinit { try? handle.close() }
}
