import Foundation
import InkwellDataset
import InkwellTestSupport
import InkwellVideo
import XCTest

/// The built `inkwell` run in a child process as a user runs it: output collected in a log file
/// that the test reads while the program runs.
struct RunningInkwell {
    let process: Process
    let log: URL

    init(_ arguments: [String], log: URL) throws {
        process = Process()
        process.executableURL = try ChildProcess.inkwellTool()
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        self.log = log
        try process.run()
        try handle.close()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text` (true), or the program ended or `seconds` passed
    /// without it (false).
    func waitForOutput(_ text: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the program to end; kills it (SIGKILL) and returns nil after `seconds`.
    func waitForExit(seconds: Double = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Small inputs for the CLI tests, made in a test's temporary folder.
enum CLIFixtures {
    /// `inkwell ARGUMENTS...`: exit status and output (standard output and error together).
    static func inkwell(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ChildProcess.run(try ChildProcess.inkwellTool(), arguments)
    }

    /// A tiny dataset (13 x 9 frames, 4 train videos and 1 test video of 10 frames each).
    static func dataset(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("data")
        try TinyDataset.write(to: url)
        return url
    }

    /// A training configuration for the tiny dataset: a model of a few hundred parameters,
    /// `steps` steps of batch 4.
    static func trainingConfiguration(in dir: URL, steps: Int) throws -> URL {
        let url = dir.appendingPathComponent("config.json")
        try Data("""
            {"model": {"latent": 4, "encoder": [3, 4, 8], "decoder": [8, 8, 4], "discriminator": [3, 4, 8, 8],
             "discriminator_hidden": 8, "feature_map": [3, 4]},
             "batch": 4, "steps": \(steps), "eval_every": 1000000, "eval_frames": 0, "keep_best": 0,
             "fixed_latents": 4, "seed": 11}
            """.utf8).write(to: url)
        return url
    }

    /// `inkwell train` arguments for a run of the tiny dataset in `out`, one thread.
    static func trainArguments(dir: URL, steps: Int, out: URL) throws -> [String] {
        ["train", "--data", try dataset(in: dir).path, "--out", out.path,
         "--config", try trainingConfiguration(in: dir, steps: steps).path, "--threads", "1"]
    }

    /// A short synthetic clip (H.264 in MP4, 64 x 36, 10 frames at 10 frames per second).
    static func clip(_ url: URL, seed: UInt64 = 1) throws {
        let options = VideoWriterOptions(width: 64, height: 36, frameRate: 10, gop: 3, codec: .h264, quality: 23)
        let writer = try VideoWriter(url: url, options: options)
        let renderer = GameplayClipRenderer(width: 64, height: 36, frameCount: 10, seed: seed)
        for _ in 0..<10 { try writer.append(rgb: renderer.nextFrame()) }
        _ = try writer.finish()
    }

    /// A pipeline of synth (`clips` clips of 2 s) then ingest (at 121 x 65), and, with
    /// `trainSteps`, a train stage of the narrow model, written to `dir/NAME.yaml`.
    static func synthPipeline(in dir: URL, name: String = "cli", clips: Int, trainSteps: Int? = nil) throws -> URL {
        let url = dir.appendingPathComponent("\(name).yaml")
        var text = """
            name: \(name)
            stages:
              synth:
                kind: synth
                params: {clips: \(clips), seconds: 2, fps: 10, width: 64, height: 36, gop: 3, audio: false}
              ingest:
                kind: ingest
                inputs: {videos: synth.videos}
                params: {size: 121x65, test_fraction: 0.5}

            """
        if let trainSteps {
            text += """
                  train:
                    kind: train
                    inputs: {data: ingest.dataset}
                    params: {preset: narrow, batch: 2, steps: \(trainSteps), eval_every: 1000000, eval_frames: 0, keep_best: 0, fixed_latents: 4}

                """
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
