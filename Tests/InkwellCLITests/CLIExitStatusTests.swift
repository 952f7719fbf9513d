import Foundation
import InkwellTestSupport
import InkwellTraining
import XCTest

/// The exit statuses of the built `inkwell`, each from the situation that gives it: 0 done,
/// 1 failed, 3 ingest with rejected inputs, 64 a usage error (CLIValidationTests), 65 an invalid
/// pipeline file, 75 a run directory in use, 130 an interrupted pipeline.
final class CLIExitStatusTests: XCTestCase {
    func testHelpAndAFinishedTrainingExitZero() throws {
        let help = try CLIFixtures.inkwell(["--help"])
        XCTAssertEqual(help.status, 0, help.output)
        XCTAssertTrue(help.output.contains("train"), help.output)

        let dir = try SharedFixtures.temporaryDirectory(self)
        let run = dir.appendingPathComponent("run")
        let train = try CLIFixtures.inkwell(try CLIFixtures.trainArguments(dir: dir, steps: 3, out: run))
        XCTAssertEqual(train.status, 0, train.output)
        XCTAssertTrue(train.output.contains("done: 3 steps"), train.output)
        XCTAssertTrue(Checkpoint.exists(at: run.appendingPathComponent("checkpoints/latest")), train.output)
    }

    func testTrainingOnAFolderThatHoldsNoDatasetExitsOne() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let config = try CLIFixtures.trainingConfiguration(in: dir, steps: 3)
        let (status, output) = try CLIFixtures.inkwell(["train", "--data", empty.path, "--out", dir.appendingPathComponent("run").path,
                                                        "--config", config.path])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains(empty.path), "the message names the folder: \(output)")
    }

    func testIngestExitsThreeWhenSomeInputsAreRejectedAndOneWhenNothingCanBeWritten() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("clip.mp4")
        try CLIFixtures.clip(clip)
        let junk = dir.appendingPathComponent("junk.mp4")
        try Data("not a video".utf8).write(to: junk)
        let data = dir.appendingPathComponent("data")
        let some = try CLIFixtures.inkwell(["ingest", clip.path, junk.path, "--out", data.path, "--size", "32x18", "--quiet"])
        XCTAssertEqual(some.status, 3, some.output)
        XCTAssertTrue(some.output.contains("junk.mp4"), "the rejected input is named: \(some.output)")
        XCTAssertTrue(some.output.contains("added 1 videos"), some.output)

        let again = try CLIFixtures.inkwell(["ingest", clip.path, "--out", data.path, "--size", "32x18", "--quiet"])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("1 already present"), again.output)

        // The dataset folder cannot be made: under a regular file.
        let nowhere = junk.appendingPathComponent("data")
        let none = try CLIFixtures.inkwell(["ingest", clip.path, "--out", nowhere.path, "--size", "32x18", "--quiet"])
        XCTAssertEqual(none.status, 1, none.output)
        XCTAssertTrue(none.output.contains("error"), none.output)
    }

    func testAnInvalidPipelineFileExits65WithItsLocation() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let pipeline = dir.appendingPathComponent("bad.yaml")
        try """
            name: bad
            stages:
              synth:
                kind: no-such-kind
            """.write(to: pipeline, atomically: true, encoding: .utf8)
        let work = dir.appendingPathComponent("work")
        for arguments in [["validate", pipeline.path], ["run", pipeline.path, "--workdir", work.path]] {
            let command = arguments[0]
            let (status, output) = try CLIFixtures.inkwell(arguments)
            XCTAssertEqual(status, 65, "\(command): \(output)")
            XCTAssertTrue(output.contains("bad.yaml:4:"), "\(command): the message is located: \(output)")
            XCTAssertTrue(output.contains("no-such-kind"), "\(command): \(output)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path), "an invalid pipeline runs nothing")
    }

    /// Every pipeline shipped in pipelines/ validates as a user would check it, with a folder
    /// for the recipes that need `videos`.
    func testEveryShippedPipelineValidates() throws {
        let folder = SharedFixtures.repositoryRoot.appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }.sorted { $0.path < $1.path }
        XCTAssertTrue(files.contains { $0.lastPathComponent == "splatoon-cpu.yaml" }, "\(files)")
        let videos = try SharedFixtures.temporaryDirectory(self)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let needsVideos = text.contains("${videos}")
            let (status, output) = try CLIFixtures.inkwell(["validate", file.path] + (needsVideos ? ["--set", "videos=\(videos.path)"] : []))
            XCTAssertEqual(status, 0, "\(file.lastPathComponent): \(output)")
            XCTAssertTrue(output.contains("\(file.lastPathComponent): ok"), output)
        }
    }

    /// A pipeline run holds its run directory: a second run on it exits 75 naming the first, and
    /// SIGINT during its (endless) train stage stops it with status 130 and a checkpoint.
    func testABusyRunDirectoryExits75AndAnInterruptedRunExits130() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let pipeline = try CLIFixtures.synthPipeline(in: dir, clips: 4, trainSteps: 1_000_000)
        let work = dir.appendingPathComponent("work")
        let arguments = ["run", pipeline.path, "--workdir", work.path]
        let first = try RunningInkwell(arguments, log: dir.appendingPathComponent("first.log"))
        defer { first.stop() }
        XCTAssertTrue(first.waitForOutput("train: running"), first.output)

        let second = try CLIFixtures.inkwell(arguments)
        XCTAssertEqual(second.status, 75, second.output)
        XCTAssertTrue(second.output.contains("pid \(first.process.processIdentifier)"), "names the run holding it: \(second.output)")

        XCTAssertTrue(first.process.isRunning, "the first run goes on: \(first.output)")
        kill(first.process.processIdentifier, SIGINT)
        XCTAssertEqual(first.waitForExit(), 130, first.output)
        XCTAssertTrue(first.output.contains("stage 'train' (train) was interrupted; run the pipeline again to resume it"), first.output)
        XCTAssertTrue(Checkpoint.exists(at: work.appendingPathComponent("train/run/checkpoints/latest")), first.output)
    }
}
