import ArgumentParser
import Foundation
import Inkwell

/// `inkwell run PIPELINE`: validates a pipeline file and runs its stages in dependency order,
/// skipping those whose cache key matches their last completed run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file (stages that are up to date are skipped).",
        discussion: """
        Outputs, logs, resolved parameters and timings go to the run directory (default: \
        runs/<pipeline name> in the current directory). A second run on the same directory while \
        one is going on is refused. An interrupted run (Ctrl-C, kill) resumes where it stopped; \
        training continues from its checkpoint. Exit status: 0 done, 1 a stage failed, 65 the \
        pipeline file is invalid, 75 the run directory is locked, 130 interrupted.
        """
    )

    @OptionGroup var pipelineFile: PipelineArguments

    @Option(name: .customLong("force"), help: "Rerun this stage even when it is up to date (repeatable).")
    var force: [String] = []

    @Option(name: .customLong("until"), help: "Run only this stage and the stages it depends on.")
    var until: String?

    @Option(name: .customLong("workdir"), help: "The run directory (default: runs/<pipeline name>).")
    var workdir: String?

    @Flag(name: .shortAndLong, help: "Print only the summary, not stage logs and progress.")
    var quiet = false

    func run() throws {
        let loaded = try pipelineFile.load()
        // Under mpirun, rank 0 runs the pipeline; the other ranks train its train stages and decode
        // for its ingest stages with it.
        let world = World.communicator
        if !world.isRoot {
            RankOutput.silenceStandardOutput()
            do { try RankJobs.follow() } catch {
                RankOutput.error("inkwell run: \(error)")
                throw ExitCode(1)
            }
            return
        }
        let token = CancellationToken.trappingInterrupts(
            message: "inkwell: interrupted; stopping after the current step (interrupt again to stop now)",
            secondSignalExitStatus: 130)
        defer { token.releaseSignals() }
        let runner = PipelineRunner(
            pipeline: loaded, workDirectory: workdir.map { URL(fileURLWithPath: $0) },
            options: .init(force: Set(force), until: until, echo: !quiet), cancellation: token)
        print("pipeline \(loaded.name): \(loaded.stages.count) stages, run directory \(runner.workDirectory.path)")
        fflush(nil)
        do {
            let outcomes = try runner.run()
            try RankJobs.announce(nil)
            print(PipelineRunner.summary(outcomes), terminator: "")
            // Point at what a person opens next: every report the run holds.
            for stage in loaded.stages where outcomes.contains(where: { $0.name == stage.name && $0.status != .notRun }) {
                for port in stage.kind.outputs where port.kind == .report {
                    let url = runner.outputDirectory(of: stage.name).appendingPathComponent(port.relativePath)
                    if FileManager.default.fileExists(atPath: url.path) { print("report: \(url.path)") }
                }
            }
        } catch let failure as PipelineRunner.RunFailure {
            if !failure.outcomes.isEmpty { print(PipelineRunner.summary(failure.outcomes), terminator: "") }
            FileHandle.standardError.write(Data("inkwell: \(failure.message)\n".utf8))
            throw ExitCode(token.isCancelled ? 130 : 1)
        } catch let refused as RunLock.Refused {
            FileHandle.standardError.write(Data("inkwell: \(refused.description)\n".utf8))
            throw ExitCode(75)
        }
    }
}
