import Foundation
import InkwellTestSupport
import XCTest

/// The commands' `validate()` rules, through the built `inkwell`: a bad option combination is a
/// usage error (exit status 64) whose message names the rule, and nothing runs.
final class CLIValidationTests: XCTestCase {
    /// Runs `inkwell arguments` and checks it is refused with status 64 and `message` in its output.
    private func expectRefused(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, output) = try CLIFixtures.inkwell(arguments)
        XCTAssertEqual(status, 64, "inkwell \(arguments.joined(separator: " ")): \(output)", file: file, line: line)
        XCTAssertTrue(output.contains(message), "expected '\(message)' in: \(output)", file: file, line: line)
    }

    func testTrainRules() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let data = dir.path, out = dir.appendingPathComponent("run").path
        let train = ["train", "--data", data, "--out", out]
        try expectRefused(train + ["--batch", "1"], "--batch must be at least 2")
        try expectRefused(train + ["--steps", "10", "--epochs", "2"], "give --steps or --epochs, not both")
        try expectRefused(train + ["--resume", "--restart"], "give --resume or --restart, not both")
        try expectRefused(train + ["--steps", "0"], "--steps must be at least 1")
        try expectRefused(train + ["--epochs", "0"], "--epochs must be at least 1")
        try expectRefused(train + ["--eval-every", "0"], "--eval-every must be positive, got 0")
        try expectRefused(train + ["--minutes=-2"], "--minutes must be a positive number, got -2.0")
        try expectRefused(train + ["--threads", "0"], "--threads must be at least 1")
        try expectRefused(train + ["--preset", "huge"], "--preset must be one of reference, cpu, narrow, got 'huge'")
        try expectRefused(train + ["--init", data, "--resume"], "give --init or --resume, not both")
        try expectRefused(train + ["--init", dir.appendingPathComponent("missing.safetensors").path], "no such file or folder")
        try expectRefused(["train", "--data", dir.appendingPathComponent("missing").path, "--out", out], "not a directory")
        try expectRefused(train + ["--config", dir.appendingPathComponent("missing.json").path], "no such file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused command writes nothing")
    }

    func testIngestRules() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("clip.mp4")
        try CLIFixtures.clip(clip)
        let out = dir.appendingPathComponent("data").path
        let ingest = ["ingest", clip.path, "--out", out]
        try expectRefused(ingest + ["--size", "121by65"], "--size must be WIDTHxHEIGHT (e.g. 121x65), got 121by65")
        try expectRefused(ingest + ["--size", "0x65"], "--size must be WIDTHxHEIGHT (e.g. 121x65), got 0x65")
        try expectRefused(ingest + ["--crop", "64x36"], "--crop must be WIDTHxHEIGHT+X+Y (e.g. 121x64+0+0), got 64x36")
        try expectRefused(ingest + ["--fps", "0"], "--fps must be at least 0.001, got 0.0")
        try expectRefused(ingest + ["--fps", "2", "--all-frames"], "choose one of --keyframes, --fps N, --all-frames")
        try expectRefused(ingest + ["--keyframes", "--all-frames"], "choose one of --keyframes, --fps N, --all-frames")
        try expectRefused(ingest + ["--scaler", "nearest"], "--scaler must be one of")
        try expectRefused(ingest + ["--aspect", "zoom"], "--aspect must be one of")
        try expectRefused(ingest + ["--start", "5", "--end", "2"], "end (2.0 s) must be after start (5.0 s)")
        try expectRefused(ingest + ["--test-fraction", "2"], "--test-fraction must be at most 1, got 2.0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused command writes nothing")
    }

    func testRunAndSelftestRules() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        try expectRefused(["run", dir.appendingPathComponent("missing.yaml").path], "no such pipeline file")
        let pipeline = try CLIFixtures.synthPipeline(in: dir, clips: 1)
        try expectRefused(["run", pipeline.path, "--set", "synth.clips"], "--set synth.clips: expected KEY=VALUE")
        try expectRefused(["selftest", "--golden", dir.appendingPathComponent("missing").path], "not a directory")
        try expectRefused(["selftest", "--golden", dir.path], "no golden files found")
        try expectRefused(["selftest", "--golden", dir.path, "--tolerance", "0"], "--tolerance must be positive")
    }

    /// `bench ops` times the lowering it is asked for and says which in its header: the
    /// training lowering (what a training step records) and the inference one (Winograd).
    func testBenchOpsLowering() throws {
        let small = ["bench", "ops", "--only", "enc.0", "--batch", "1", "--repeats", "1", "--gemm-size", "64", "--threads", "1"]
        for lowering in ["training", "inference"] {
            let (status, output) = try CLIFixtures.inkwell(small + ["--lowering", lowering])
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.contains("median of 1, \(lowering) lowering"), output)
            XCTAssertTrue(output.contains("enc.0    3x69x125"), output)
        }
        let (status, output) = try CLIFixtures.inkwell(small + ["--lowering", "fast"])
        XCTAssertEqual(status, 64, output)
        XCTAssertTrue(output.contains("fast"), output)
    }
}
