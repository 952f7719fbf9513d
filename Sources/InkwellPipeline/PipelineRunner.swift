import Foundation
import InkwellFiles

/// Runs a validated pipeline in a run directory, DVC-style: stages in topological order, each
/// skipped when its cache key (kind and version, resolved parameters, content digests of its
/// inputs and of the files its path parameters name) matches its completion record.
///
/// Run directory layout (`WORKDIR`, by default `runs/<pipeline name>`):
///
///     WORKDIR/<stage>/                  the stage's outputs
///     WORKDIR/.inkwell/lock             held while a run is going on (pid, host, start time)
///     WORKDIR/.inkwell/digests.json     stat cache of file digests
///     WORKDIR/.inkwell/<stage>/log.txt      the stage's log (appended across attempts)
///     WORKDIR/.inkwell/<stage>/params.json  resolved parameters of the latest attempt
///     WORKDIR/.inkwell/<stage>/record.json  completion record: key, inputs, outputs, timing
///     WORKDIR/.inkwell/<stage>/attempt.json present while a stage runs or after it was cut short
public final class PipelineRunner {
    public struct Options {
        /// Stages to rerun even when up to date (their dependents rerun when outputs change).
        public var force: Set<String> = []
        /// Run only this stage and the stages it depends on.
        public var until: String?
        /// Print stage logs and progress on stderr.
        public var echo: Bool = true
        public init(force: Set<String> = [], until: String? = nil, echo: Bool = true) {
            self.force = force
            self.until = until
            self.echo = echo
        }
    }

    public enum Status: String, Codable, Sendable {
        case ran = "ran"
        case resumed = "resumed"
        case upToDate = "up to date"
        case failed = "failed"
        case interrupted = "interrupted"
        case notRun = "not run"
    }

    public struct StageOutcome: Sendable {
        public var name: String
        public var kind: String
        public var status: Status
        public var seconds: Double
    }

    /// A run that stopped: which stage failed (or was interrupted) and why.
    public struct RunFailure: Error, CustomStringConvertible, LocalizedError {
        public var stage: String
        public var message: String
        public var outcomes: [StageOutcome]
        public var description: String { message }
        public var errorDescription: String? { message }
    }

    public let pipeline: Pipeline
    public let workDirectory: URL
    public let options: Options
    public let cancellation: CancellationToken

    public init(pipeline: Pipeline, workDirectory: URL? = nil, options: Options = Options(), cancellation: CancellationToken = CancellationToken()) {
        self.pipeline = pipeline
        self.workDirectory = (workDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("runs").appendingPathComponent(pipeline.name)).standardizedFileURL
        self.options = options
        self.cancellation = cancellation
    }

    /// The folder a stage writes its outputs to.
    public func outputDirectory(of stage: String) -> URL { workDirectory.appendingPathComponent(stage) }
    /// Removes what a killed run left of its metadata writes (each stage's attempt, params and
    /// record files, the digest cache): AtomicFile temporaries that never became the file. Called
    /// with the lock held, so no other run is writing them (RunLock removes its own kind's).
    func removeMetadataTemporaries(in meta: URL) {
        for stage in pipeline.stages { AtomicFile.removeTemporaryFiles(in: metadataDirectory(of: stage.name)) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: meta.path)) ?? []
        for name in names where name.hasPrefix(".digests.json\(AtomicFile.temporaryMarker)") {
            try? FileManager.default.removeItem(at: meta.appendingPathComponent(name))
        }
    }

    /// The folder holding a stage's log, parameters and records.
    public func metadataDirectory(of stage: String) -> URL {
        workDirectory.appendingPathComponent(".inkwell").appendingPathComponent(stage)
    }
    public func logFile(of stage: String) -> URL { metadataDirectory(of: stage).appendingPathComponent("log.txt") }
    public func record(of stage: String) -> StageRecord? {
        RecordFiles.read(StageRecord.self, metadataDirectory(of: stage).appendingPathComponent("record.json"))
    }

    /// Runs the pipeline; returns each stage's outcome, or throws ``RunFailure`` naming the stage
    /// that failed (completed stages stay cached), or ``RunLock/Refused``.
    @discardableResult
    public func run() throws -> [StageOutcome] {
        try checkNamedStages()
        let meta = workDirectory.appendingPathComponent(".inkwell")
        try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        let lock = try RunLock(directory: meta, owner: workDirectory)
        defer { lock.release() }
        removeMetadataTemporaries(in: meta)
        let digester = ContentDigester(cacheFile: meta.appendingPathComponent("digests.json"))
        defer { digester.save() }

        let wanted = options.until.map { pipeline.ancestors(of: [$0]) } ?? Set(pipeline.stages.map(\.name))
        var outcomes: [StageOutcome] = []
        var outputDigests: [String: [String: String]] = [:]  // stage -> output -> digest
        for stage in pipeline.stages {
            guard wanted.contains(stage.name) else {
                outcomes.append(StageOutcome(name: stage.name, kind: stage.kind.kind, status: .notRun, seconds: 0))
                continue
            }
            let plan = try self.plan(stage, outputDigests: outputDigests, digester: digester)
            if !options.force.contains(stage.name), let record = RecordFiles.read(StageRecord.self, plan.recordURL), record.key == plan.key,
               let digests = try verifiedOutputs(stage, record: record, digester: digester) {
                outputDigests[stage.name] = digests
                outcomes.append(StageOutcome(name: stage.name, kind: stage.kind.kind, status: .upToDate, seconds: 0))
                say("\(stage.name): up to date")
                continue
            }
            let attempt = try execute(plan, digester: digester)
            outcomes.append(attempt.outcome)
            guard let digests = attempt.outputDigests else { throw failure(of: plan, attempt: attempt, outcomes: outcomes) }
            outputDigests[stage.name] = digests
        }
        return outcomes
    }

    /// Throws when `--force` or `--until` names a stage the pipeline lacks.
    private func checkNamedStages() throws {
        for name in options.force.union(options.until.map { [$0] } ?? []) where pipeline.stage(named: name) == nil {
            let names = pipeline.stages.map(\.name)
            throw RunFailure(stage: name, message: "no stage '\(name)' in pipeline \(pipeline.name)\(NameSuggestion.hint(for: name, in: names))", outcomes: [])
        }
    }

    /// What a stage would run with: its input artifacts and their records, its cache key, and
    /// where its records go.
    private struct StagePlan {
        var stage: PipelineStage
        var inputs: [String: Artifact]
        var inputRecords: [String: StageRecord.Input]
        var key: String
        var metadataDirectory: URL
        var recordURL: URL { metadataDirectory.appendingPathComponent("record.json") }
        var attemptURL: URL { metadataDirectory.appendingPathComponent("attempt.json") }
    }

    /// The inputs (outputs of stages that ran before) and the cache key of `stage`.
    private func plan(_ stage: PipelineStage, outputDigests: [String: [String: String]], digester: ContentDigester) throws -> StagePlan {
        var inputs: [String: Artifact] = [:]
        var inputRecords: [String: StageRecord.Input] = [:]
        for (port, ref) in stage.inputs {
            let producer = pipeline.stage(named: ref.stage)!
            let spec = producer.kind.outputs.first { $0.name == ref.output }!
            inputs[port] = Artifact(kind: spec.kind, url: outputDirectory(of: ref.stage).appendingPathComponent(spec.relativePath))
            inputRecords[port] = .init(stage: ref.stage, output: ref.output, digest: outputDigests[ref.stage]?[ref.output] ?? "missing")
        }
        var pathDigests: [String: String] = [:]
        for spec in stage.kind.parameters where spec.type == .path {
            if case .string(let path)? = stage.parameters[spec.name], !path.isEmpty {
                pathDigests[spec.name] = (try digester.digest(of: URL(fileURLWithPath: path))) ?? "missing"
            }
        }
        return StagePlan(stage: stage, inputs: inputs, inputRecords: inputRecords,
                         key: cacheKey(stage, inputs: inputRecords, paths: pathDigests), metadataDirectory: metadataDirectory(of: stage.name))
    }

    /// One attempt at a stage: its outcome, and its output digests when it completed.
    private struct StageAttemptResult {
        var outcome: StageOutcome
        var outputDigests: [String: String]?
        var failure: String?
    }

    /// Runs a stage that is not up to date (resuming an interrupted attempt with the same key),
    /// then records its outputs; a failure or an interruption is returned, not thrown.
    private func execute(_ plan: StagePlan, digester: ContentDigester) throws -> StageAttemptResult {
        let (stage, metaDir, fm) = (plan.stage, plan.metadataDirectory, FileManager.default)
        let attempt = RecordFiles.read(StageAttempt.self, plan.attemptURL)
        let resuming = !options.force.contains(stage.name) && attempt.map {
            $0.key == plan.key && ($0.status == "interrupted" || ($0.status == "running" && !RunLock.isAlive($0.pid)))
        } ?? false
        let outDir = outputDirectory(of: stage.name)
        try fm.createDirectory(at: metaDir, withIntermediateDirectories: true)
        try? fm.removeItem(at: plan.recordURL)
        if !resuming { try? fm.removeItem(at: outDir) }
        try fm.createDirectory(at: outDir, withIntermediateDirectories: true)
        // A killed attempt's partial files never count as outputs: gone before the stage resumes.
        let leftovers = AtomicFile.removeTemporaries(under: outDir)
        let started = Date()
        try RecordFiles.write(StageAttempt(key: plan.key, pid: getpid(), started: started, status: "running"), plan.attemptURL)
        try AtomicFile.write(stage.parameters.canonicalJSON(), to: metaDir.appendingPathComponent("params.json"))

        let logger = StageLogger(file: logFile(of: stage.name), stageName: stage.name, echo: options.echo)
        say("\(stage.name): \(resuming ? "resuming" : "running") (\(stage.kind.kind))")
        logger.info("\(resuming ? "resuming" : "starting") stage '\(stage.name)' (\(stage.kind.kind) v\(stage.kind.version)), key \(plan.key.prefix(16))")
        if !leftovers.isEmpty { logger.info("removed \(leftovers.count) partial file(s) an interrupted attempt left: \(leftovers.joined(separator: ", "))") }
        let context = StageContext(
            stageName: stage.name, outputDirectory: outDir, pipelineDirectory: pipeline.directory, parameters: stage.parameters,
            inputs: plan.inputs, outputPorts: stage.kind.outputs, logger: logger,
            progress: ProgressReporter(stageName: stage.name, echo: options.echo), cancellation: cancellation, isResuming: resuming)
        var failure: String?
        do {
            try stage.kind.init().run(context)
            if cancellation.isCancelled { throw StageError.cancelled }
        } catch {
            failure = (error as? StageError)?.message ?? (error as? LocalizedError)?.errorDescription ?? "\(error)"
        }
        let seconds = Date().timeIntervalSince(started)
        if failure == nil {
            do {
                let digests = try recordCompletion(plan, started: started, seconds: seconds, digester: digester)
                logger.info(String(format: "finished in %.1f s", seconds))
                say(String(format: "%@: done in %.1f s", stage.name, seconds))
                return StageAttemptResult(outcome: StageOutcome(name: stage.name, kind: stage.kind.kind, status: resuming ? .resumed : .ran, seconds: seconds),
                                          outputDigests: digests)
            } catch let missing as MissingOutput {
                failure = missing.message
            }
        }
        let interrupted = cancellation.isCancelled
        try? RecordFiles.write(StageAttempt(key: plan.key, pid: getpid(), started: started, status: interrupted ? "interrupted" : "failed"), plan.attemptURL)
        logger.info(interrupted ? "interrupted" : "failed: \(failure!)")
        return StageAttemptResult(outcome: StageOutcome(name: stage.name, kind: stage.kind.kind, status: interrupted ? .interrupted : .failed, seconds: seconds),
                                  failure: failure)
    }

    /// An output a stage that finished did not write.
    private struct MissingOutput: Error {
        var message: String
    }

    /// Digests a finished stage's outputs and writes its completion record; throws
    /// ``MissingOutput`` when an output is missing.
    private func recordCompletion(_ plan: StagePlan, started: Date, seconds: Double, digester: ContentDigester) throws -> [String: String] {
        let stage = plan.stage
        var outputs: [String: StageRecord.Output] = [:]
        for spec in stage.kind.outputs {
            let url = outputDirectory(of: stage.name).appendingPathComponent(spec.relativePath)
            guard let digest = try digester.digest(of: url) else {
                throw MissingOutput(message: "did not write its output '\(spec.name)' (\(url.path))")
            }
            outputs[spec.name] = .init(kind: spec.kind.rawValue, path: spec.relativePath, digest: digest)
        }
        let record = StageRecord(stage: stage.name, kind: stage.kind.kind, version: stage.kind.version, key: plan.key, inputs: plan.inputRecords,
                                 outputs: outputs, started: started, finished: Date(), seconds: seconds)
        try RecordFiles.write(record, plan.recordURL)
        try? FileManager.default.removeItem(at: plan.attemptURL)
        digester.save()
        return outputs.mapValues(\.digest)
    }

    /// The error ending a run at a stage that failed or was interrupted: the outcomes so far, and
    /// the stages after it as not run.
    private func failure(of plan: StagePlan, attempt: StageAttemptResult, outcomes: [StageOutcome]) -> RunFailure {
        var outcomes = outcomes
        for rest in pipeline.stages where !outcomes.contains(where: { $0.name == rest.name }) {
            outcomes.append(StageOutcome(name: rest.name, kind: rest.kind.kind, status: .notRun, seconds: 0))
        }
        let stage = plan.stage
        let message = attempt.outcome.status == .interrupted
            ? "stage '\(stage.name)' (\(stage.kind.kind)) was interrupted; run the pipeline again to resume it"
            : "stage '\(stage.name)' (\(stage.kind.kind)) failed: \(attempt.failure!) (log: \(logFile(of: stage.name).path))"
        return RunFailure(stage: stage.name, message: message, outcomes: outcomes)
    }

    /// The recorded output digests when every output still exists with its recorded content.
    private func verifiedOutputs(_ stage: PipelineStage, record: StageRecord, digester: ContentDigester) throws -> [String: String]? {
        var digests: [String: String] = [:]
        for spec in stage.kind.outputs {
            guard let recorded = record.outputs[spec.name],
                  let digest = try digester.digest(of: outputDirectory(of: stage.name).appendingPathComponent(spec.relativePath)),
                  digest == recorded.digest else { return nil }
            digests[spec.name] = digest
        }
        return digests
    }

    /// SHA-256 of the canonical description of what the stage would compute.
    func cacheKey(_ stage: PipelineStage, inputs: [String: StageRecord.Input], paths: [String: String]) -> String {
        var object: [String: Any] = [
            "kind": stage.kind.kind,
            "version": stage.kind.version,
            "inputs": inputs.mapValues { "\($0.stage).\($0.output)=\($0.digest)" },
            "paths": paths,
        ]
        var params: [String: Any] = [:]
        for (k, v) in stage.parameters.values { params[k] = v.jsonObject }
        object["params"] = params
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ContentDigester.digest(of: data)
    }

    private func say(_ line: String) {
        guard options.echo else { return }
        FileHandle.standardError.write(Data(("inkwell: " + line + "\n").utf8))
    }

    /// A table of outcomes: stage, kind, status and seconds.
    public static func summary(_ outcomes: [StageOutcome]) -> String {
        let width = max(5, outcomes.map(\.name.count).max() ?? 5)
        var lines: [String] = []
        for o in outcomes {
            let name = o.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let kind = o.kind.padding(toLength: 10, withPad: " ", startingAt: 0)
            let status = o.status.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            let time = o.status == .ran || o.status == .resumed || o.status == .failed ? String(format: "%8.1f s", o.seconds) : ""
            lines.append("\(name)  \(kind)  \(status)\(time)")
        }
        let total = outcomes.reduce(0) { $0 + $1.seconds }
        lines.append(String(format: "total %.1f s", total))
        return lines.joined(separator: "\n") + "\n"
    }
}
