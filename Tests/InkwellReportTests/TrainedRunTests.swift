import Foundation
import InkwellEngine
import InkwellReport
import InkwellTestSupport
import InkwellTraining
import InkwellVideo
import XCTest

/// The report and `reconstruct` on what the real trainer writes: a tiny model trained for a few
/// steps on synthetic frames (a run directory with config.json, metrics.csv, evaluations, sample
/// PNGs and checkpoints), and real videos.
final class TrainedRunTests: XCTestCase {
    /// Depth 2, feature map 3 x 4: frames 9 x 13.
    static let widths = ModelWidths(latent: 4, encoder: [3, 4, 8], decoder: [8, 8, 4], discriminator: [3, 4, 8, 8],
                                    discriminatorHidden: 8, featureMap: [3, 4])

    /// Frames in [-1, 1]: horizontal gradients shifted per frame and channel, plus noise.
    static func frames(_ n: Int, seed: UInt64, height: Int = 9, width: Int = 13) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let t = Tensor.uniform([n, 3, height, width], low: -0.2, high: 0.2, using: &generator)
        for i in 0..<n {
            for c in 0..<3 {
                for y in 0..<height {
                    for x in 0..<width {
                        t.pointer[((i * 3 + c) * height + y) * width + x] += Float(x) / Float(width) - 0.5 + Float(c) * 0.1 - Float(i % 3) * 0.2
                    }
                }
            }
        }
        return t
    }

    /// Trains `steps` steps with an evaluation every `evalEvery` into a fresh run directory.
    func trainRun(steps: Int = 6, evalEvery: Int = 3, widths: ModelWidths = TrainedRunTests.widths, name: String = "trained") throws -> URL {
        var config = TrainingConfiguration()
        config.model = widths
        config.batch = 4
        config.steps = steps
        config.evalEvery = evalEvery
        config.evalFrames = 0
        config.fixedLatents = 8
        config.keepBest = 2
        config.kld = StrategyChoice(name: "batch")
        let dir = try SharedFixtures.temporaryDirectory(self, name: name).appendingPathComponent("run")
        let h = widths.frameSize[0], w = widths.frameSize[1]
        let trainer = try Trainer(configuration: config, runDirectory: dir,
                                  train: TensorBatches(images: Self.frames(16, seed: 1, height: h, width: w), batchSize: 4),
                                  test: TensorBatches(images: Self.frames(8, seed: 2, height: h, width: w), batchSize: 4, shuffle: false, dropLast: false),
                                  resume: false)
        try trainer.run()
        return dir
    }

    func testReportOfARealTrainingRun() throws {
        let dir = try trainRun()
        let run = try RunDirectory(dir)
        XCTAssertNil(run.configProblem)
        XCTAssertNil(run.metricsProblem)
        XCTAssertEqual(run.evaluationProblems, [])
        XCTAssertEqual(run.metrics?.rows(phase: "train").count, 6)
        XCTAssertEqual(run.metrics?.rows(phase: "test").count, 2)
        XCTAssertEqual(run.evaluations.map(\.step), [3, 6])
        XCTAssertEqual(run.kldName, "batch")
        let last = try XCTUnwrap(run.evaluations.last)
        XCTAssertTrue(last.pixelMSE.isFinite)
        XCTAssertTrue(last.diversity.ratio.isFinite)
        XCTAssertEqual(last.frames, last.result.frames)
        XCTAssertEqual(last.latent.dim, 4)
        XCTAssertNil(RunCharts.distanceHistogram(last).problem, "the trainer's histogram is drawable")
        XCTAssertTrue(run.checkpoints.contains { $0.name == "latest" })
        for step in [3, 6] {
            let e = try XCTUnwrap(run.evaluations.first { $0.step == step })
            for path in [e.fakesImage, e.reconstructionsImage] {
                XCTAssertTrue(run.exists(path), "\(path) named by the evaluation exists")
            }
        }
        // A reconstruction video in the run is linked and playable from the page.
        let clip = dir.appendingPathComponent("clip.mkv")
        try writeClip(clip, frames: 6)
        try ClipReconstruction(model: dir).run(video: clip, output: dir.appendingPathComponent("reconstruction.mp4"))
        try FileManager.default.removeItem(at: clip)

        let page = try RunReport.write(runDirectory: dir, images: .link)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<a href=\"reconstruction.mp4\">reconstruction.mp4</a>"))
        XCTAssertTrue(html.contains("<video controls preload=\"none\" width=\"720\" style=\"max-width:100%;height:auto\" src=\"reconstruction.mp4\">"))
        XCTAssertTrue(html.contains("step 6, epoch"), "checkpoint state shows the step")
        XCTAssertEqual(html.components(separatedBy: "class=\"step-frame\"").count - 1, 2)
        XCTAssertFalse(html.contains("missing: <code>samples/"), "every sample image of the run is found")

        let chromium = try HeadlessChromium.require(self)
        let dom = try chromium.dumpDOM(page)
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-ready", in: dom.stdout), "1")
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-js-errors", in: dom.stdout), "")
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-failed", in: dom.stdout), "0")
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-drawn", in: dom.stdout), "4")
        if let keep = ProcessInfo.processInfo.environment["INKWELL_KEEP_SCREENSHOTS"], !keep.isEmpty {
            let shot = dir.appendingPathComponent("shot.png")
            _ = try chromium.screenshot(page, to: shot, height: 5200)
            try? FileManager.default.removeItem(atPath: keep + "/trained-run.png")
            try? FileManager.default.copyItem(atPath: shot.path, toPath: keep + "/trained-run.png")
        }
    }

    func testReconstructCopiesAudioAndShowsBothPanels() throws {
        let clip = try SharedFixtures.require("fixtures/videos/sample-h264-320x240.mp4")
        let dir = try trainRun(steps: 3, evalEvery: 3, name: "reconstruct")
        let out = dir.appendingPathComponent("recon.mp4")
        let reconstruction = try ClipReconstruction(model: dir.appendingPathComponent("checkpoints/latest"))
        XCTAssertEqual([reconstruction.frameHeight, reconstruction.frameWidth], [9, 13])
        var options = ClipReconstruction.Options()
        options.maxFrames = 24
        options.batch = 5
        var progress: [Int] = []
        let result = try reconstruction.run(video: clip, output: out, options: options) { progress.append($0) }
        XCTAssertEqual(result.frames, 24)
        XCTAssertEqual(progress, [5, 10, 15, 20, 24])
        XCTAssertEqual([result.width, result.height], [2 * 52 + 8, 36])
        XCTAssertGreaterThan(result.audioPackets, 0, "the clip's AAC audio is copied")
        XCTAssertTrue(result.meanPSNR.isFinite && result.meanPSNR > 0)
        XCTAssertNil(result.audioNote)

        let written = try VideoDecoder(url: out)
        XCTAssertEqual(written.info.codec, "h264")
        XCTAssertNotNil(written.info.audioCodec)
        XCTAssertEqual([written.info.width, written.info.height], [112, 36])
        XCTAssertEqual(written.info.frameRate, 14.99, accuracy: 0.02)
        // The left panel is the original: compare it with the clip decoded at the panel size.
        var originals: [[UInt8]] = []
        _ = try VideoDecoder(url: clip).decode(DecodeOptions(selection: .all, width: 52, height: 36, maxFrames: 3)) { originals.append(Array($0.rgb)) }
        var panels: [[UInt8]] = []
        _ = try written.decode(DecodeOptions(selection: .all, width: 112, height: 36, maxFrames: 3)) { frame in
            var left: [UInt8] = []
            for y in 0..<36 { left += frame.rgb[(y * 112 * 3)..<(y * 112 * 3 + 52 * 3)] }
            panels.append(left)
        }
        XCTAssertEqual(panels.count, 3)
        for (a, b) in zip(originals, panels) {
            var se = 0.0
            for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); se += d * d }
            let psnr = 10 * log10(255 * 255 / max(1e-9, se / Double(a.count)))
            XCTAssertGreaterThan(psnr, 22, "left panel differs from the original frame")
        }
    }

    /// A short clip without audio: 64 x 36, 25 fps, a gradient that changes per frame.
    func writeClip(_ url: URL, frames: Int) throws {
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: 64, height: 36, frameRate: 25))
        for i in 0..<frames {
            try writer.append(rgb: (0..<(64 * 36)).flatMap { p -> [UInt8] in [UInt8((p % 64) * 4), UInt8(i * 20 % 256), 128] })
        }
        _ = try writer.finish()
    }

    func testReconstructWithoutAudioInGivesNoAudioOut() throws {
        let dir = try trainRun(steps: 3, evalEvery: 3, name: "silent")
        let silent = dir.appendingPathComponent("silent.mp4")
        try writeClip(silent, frames: 10)
        XCTAssertNil(try VideoDecoder(url: silent).info.audioCodec)
        let out = dir.appendingPathComponent("silent-recon.mp4")
        let result = try ClipReconstruction(model: dir).run(video: silent, output: out)
        XCTAssertEqual(result.frames, 10)
        XCTAssertEqual(result.audioPackets, 0)
        XCTAssertEqual(result.audioNote, "the clip has no audio")
        XCTAssertNil(try VideoDecoder(url: out).info.audioCodec)
    }

    func testCorruptOrMismatchedCheckpointFailsBeforeDecoding() throws {
        let dir = try trainRun(steps: 3, evalEvery: 3, name: "corrupt")
        let latest = dir.appendingPathComponent("checkpoints/latest")
        let out = dir.appendingPathComponent("never.mp4")

        // A checkpoint of other widths: its weights do not fit the widths in state.json.
        var other = TrainedRunTests.widths
        other.latent = 6
        let otherRun = try trainRun(steps: 3, evalEvery: 3, widths: other, name: "other")
        let mismatched = dir.appendingPathComponent("mismatched")
        try FileManager.default.copyItem(at: latest, to: mismatched)
        try FileManager.default.removeItem(at: mismatched.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: otherRun.appendingPathComponent("checkpoints/latest/model.safetensors"),
                                         to: mismatched.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try ClipReconstruction(model: mismatched)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(mismatched.path): cannot load the model: checkpoint error:"), message)
            XCTAssertFalse(message.contains("\n"))
        }

        // Truncated weights.
        let weights = latest.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        XCTAssertThrowsError(try ClipReconstruction(model: latest)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(latest.path): cannot load the model:"), "\(error)")
        }
        // Not a checkpoint at all.
        XCTAssertThrowsError(try ClipReconstruction(model: dir.appendingPathComponent("samples"))) { error in
            XCTAssertTrue("\(error)".contains("cannot load the model"), "\(error)")
        }
        XCTAssertThrowsError(try ClipReconstruction(model: dir.appendingPathComponent("nope"))) { error in
            XCTAssertEqual("\(error)", "\(dir.appendingPathComponent("nope").path): no such model")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
