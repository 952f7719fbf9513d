import Foundation
import InkwellDataset
import InkwellPipeline
import InkwellStages
import InkwellTestSupport
import XCTest

/// The built-in stages on small real data: synthetic H.264 clips, a real ingest through FFmpeg, a
/// real preprocess, a narrow model trained for a few steps, its evaluation and report.
final class BuiltinStagesTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try SharedFixtures.temporaryDirectory(self, name: "inkwell-stages")
    }

    func registry() -> StageRegistry {
        let registry = StageRegistry()
        BuiltinStages.register(into: registry)
        return registry
    }

    func load(_ text: String, overrides: [String] = []) throws -> Pipeline {
        let url = directory.appendingPathComponent("p.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try PipelineLoader(registry: registry(), overrides: overrides).load(url)
    }

    /// `stages:` with the two stages every pipeline here starts with: four short synthetic
    /// clips, ingested half for test. The pipelines add their stages after it.
    static let stagesSynthAndIngest = """
        stages:
          synth:
            kind: synth
            params: {clips: 4, seconds: 1, fps: 10, width: 96, height: 54, gop: 2, audio: false}
          ingest:
            kind: ingest
            inputs: {videos: synth.videos}
            params: {test_fraction: 0.5, seed: 1}
        """

    static let pipeline = """
        name: tiny
        \(stagesSynthAndIngest)
          preprocess:
            kind: preprocess
            inputs: {data: ingest.dataset}
            params: {dark: 0, uniform: 0, duplicates: 0.5, flip: true}
          train:
            kind: train
            inputs: {data: preprocess.dataset}
            params: {preset: narrow, batch: 2, steps: 2, eval_every: 100, eval_frames: 4, fixed_latents: 4,
                     kld: batch, beta: {name: pi-controller, target: 0.2}}
          evaluate:
            kind: evaluate
            inputs: {run: train.run, data: preprocess.dataset}
            params: {frames: 4, fixed_latents: 4}
          export:
            kind: export
            inputs: {run: train.run, evaluation: evaluate.images}
        """

    func testDataStagesProduceRealVideosAndDatasets() throws {
        let pipeline = try load(Self.pipeline)
        let work = directory.appendingPathComponent("work")
        let runner = PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(until: "preprocess", echo: false))
        let outcomes = try runner.run()
        XCTAssertEqual(outcomes.map(\.status), [.ran, .ran, .ran, .notRun, .notRun, .notRun])
        let clips = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("synth/videos").path).sorted()
        XCTAssertEqual(clips, ["clip-000.mp4", "clip-001.mp4", "clip-002.mp4", "clip-003.mp4"])
        let ingested = try DatasetManifest.read(datasetAt: work.appendingPathComponent("ingest/dataset"))
        XCTAssertEqual(ingested.videos.count, 4)
        XCTAssertEqual(ingested.frameCount, 20, "1 s at 10 fps with a key frame every 2 frames: 5 per clip")
        XCTAssertEqual([ingested.width, ingested.height], [121, 65])
        let processed = try DatasetManifest.read(datasetAt: work.appendingPathComponent("preprocess/dataset"))
        let record = try XCTUnwrap(processed.preprocess.last)
        XCTAssertEqual(record.framesIn, 20)
        let kept = record.framesIn - record.dropped.values.reduce(0, +)
        let trainFrames = try XCTUnwrap(processed.splits["train"]?.frames)
        XCTAssertEqual(record.added["flipped"], trainFrames / 2, "every kept training frame, and only those, gains a mirror")
        XCTAssertEqual(processed.frameCount, kept + trainFrames / 2)
        XCTAssertEqual(processed.frameCount, record.framesOut)
        // Up to date on a second run; a preprocess parameter reruns preprocess only.
        XCTAssertEqual(try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(until: "preprocess", echo: false)).run()
            .prefix(3).map(\.status), [.upToDate, .upToDate, .upToDate])
        let changed = try load(Self.pipeline, overrides: ["preprocess.flip=false"])
        XCTAssertEqual(try PipelineRunner(pipeline: changed, workDirectory: work, options: .init(until: "preprocess", echo: false)).run()
            .prefix(3).map(\.status), [.upToDate, .upToDate, .ran])
        XCTAssertEqual(try DatasetManifest.read(datasetAt: work.appendingPathComponent("preprocess/dataset")).frameCount,
                       record.framesIn - record.dropped.values.reduce(0, +))
    }

    func testTrainingIsInterruptedAndResumesThenEvaluatesAndExports() throws {
        let steps = 8
        let pipeline = try load(Self.pipeline, overrides: ["train.steps=\(steps)"])
        let work = directory.appendingPathComponent("work")
        // Interrupt training once its first step is in metrics.csv (as Ctrl-C would).
        let token = CancellationToken()
        let metrics = work.appendingPathComponent("train/run/metrics.csv")
        let watcher = Thread {
            while !token.isCancelled {
                if let text = try? String(contentsOf: metrics, encoding: .utf8), text.split(separator: "\n").count >= 2 {
                    token.cancel()
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        watcher.start()
        XCTAssertThrowsError(try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false), cancellation: token).run()) { error in
            XCTAssertEqual((error as? PipelineRunner.RunFailure)?.stage, "train", "\(error)")
        }
        token.cancel()
        let checkpoint = work.appendingPathComponent("train/run/checkpoints/latest")
        let interruptedAt = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint.appendingPathComponent("state.json"))) as? [String: Any])["step"] as? Int
        XCTAssertTrue((1..<steps).contains(interruptedAt ?? 0), "the trainer stops after the step in progress and checkpoints it (step \(interruptedAt ?? -1))")

        let outcomes = try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false)).run()
        XCTAssertEqual(outcomes.map(\.status), [.upToDate, .upToDate, .upToDate, .resumed, .ran, .ran])
        let rows = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(rows[0].hasPrefix("phase,time,step,epoch,kld,beta"), String(rows[0]))
        let trainSteps = rows.filter { $0.hasPrefix("train,") }.map { Int($0.split(separator: ",")[2])! }
        XCTAssertEqual(trainSteps, Array(1...steps), "steps before the interruption, then the rest after resuming, none twice")
        XCTAssertEqual(rows.filter { $0.hasPrefix("test,") }.count, 1)
        let config = try String(contentsOf: work.appendingPathComponent("train/run/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("pi-controller"), config)

        let evaluation = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("evaluate/evaluation.json"))) as! [String: Any]
        XCTAssertEqual(evaluation["step"] as? Int, steps)
        XCTAssertNotNil(evaluation["pixel_mse"] as? Double)
        let samples = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("evaluate/samples").path)
        XCTAssertTrue(samples.contains { $0.hasPrefix("fakes") && $0.hasSuffix(".png") }, "\(samples)")
        let report = try String(contentsOf: work.appendingPathComponent("export/report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<html"), String(report.prefix(200)))
        let images = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("export/images").path)
        XCTAssertTrue(images.contains { $0.hasPrefix("run-fakes") }, "\(images)")
        XCTAssertTrue(images.contains { $0.hasPrefix("final-fakes") }, "\(images)")

        // Everything up to date now; the training output was not modified by export.
        XCTAssertEqual(try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false)).run().map(\.status),
                       Array(repeating: .upToDate, count: 6))
    }

    func testCompareOverlaysTwoRunsLabelledByStage() throws {
        let pipeline = try load("""
            \(Self.stagesSynthAndIngest)
              train-constant:
                kind: train
                inputs: {data: ingest.dataset}
                params: {preset: narrow, batch: 2, steps: 2, eval_every: 1, eval_frames: 4, fixed_latents: 4, beta: {name: constant, value: 1}}
              train-dual:
                kind: train
                inputs: {data: ingest.dataset}
                params: {preset: narrow, batch: 2, steps: 2, eval_every: 1, eval_frames: 4, fixed_latents: 4, beta: dual-gradient}
              compare:
                kind: compare
                inputs: {a: train-constant.run, b: train-dual.run}
                params: {embed_images: false}
            """)
        let work = directory.appendingPathComponent("work")
        let outcomes = try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false)).run()
        XCTAssertEqual(outcomes.map(\.status), [.ran, .ran, .ran, .ran, .ran])
        let html = try String(contentsOf: work.appendingPathComponent("compare/compare.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("train-constant"), "the first run is labelled by its stage")
        XCTAssertTrue(html.contains("train-dual"), "the second run is labelled by its stage")
        XCTAssertThrowsError(try load("stages:\n  s: {kind: synth}\n  i: {kind: ingest, inputs: {videos: s.videos}}\n  t: {kind: train, inputs: {data: i.dataset}}\n  c:\n    kind: compare\n    inputs: {a: t.run}\n")) { error in
            XCTAssertTrue("\(error)".contains("stage 'c' (compare) is missing its required input 'b' (checkpoint)"), "\(error)")
        }
    }

    func testTrainParametersAndStrategiesAreValidatedAgainstTraining() throws {
        func errors(_ overrides: [String]) -> [String] {
            do {
                _ = try load(Self.pipeline, overrides: overrides)
                return []
            } catch let error as PipelineValidationError {
                return error.diagnostics.map(\.description)
            } catch {
                return ["\(error)"]
            }
        }
        XCTAssertEqual(errors(["train.beta=dual-gradiant"]).count, 1)
        XCTAssertTrue(errors(["train.beta=dual-gradiant"])[0].contains("unknown beta strategy 'dual-gradiant'; did you mean 'dual-gradient'?"),
                      "\(errors(["train.beta=dual-gradiant"]))")
        XCTAssertTrue(errors(["train.kld=moving"])[0].contains("unknown kld strategy 'moving'"), "\(errors(["train.kld=moving"]))")
        let negative = errors(["train.augment=jitter", "train.augment.shift_x=-1"])
        XCTAssertTrue(negative.first?.contains("shift_x and shift_y must not be negative") == true, "\(negative)")
        // A pipeline's numbers reach the strategy's typed parameters (integers stay integers).
        let jitter = try load(Self.pipeline, overrides: ["train.augment=jitter", "train.augment.shift_x=6", "train.augment.channels=0.5"])
        let configuration = try TrainStage.configuration(jitter.stage(named: "train")!.parameters).resolved()
        XCTAssertEqual(configuration.augment.name, "jitter")
        XCTAssertEqual(configuration.augment.parameters["shift_x"], .int(6))
        XCTAssertEqual(configuration.augment.parameters["channels"], .double(0.5))
        XCTAssertTrue(errors(["train.beta.taget=0.3"])[0].contains("unknown parameter 'taget' of beta strategy 'pi-controller'"),
                      "\(errors(["train.beta.taget=0.3"]))")
        XCTAssertTrue(errors(["train.batch=1"])[0].contains("stage 'train': batch must be at least 2 (batch statistics), got 1"),
                      "\(errors(["train.batch=1"]))")
        XCTAssertTrue(errors(["train.preset=narow"])[0].contains("did you mean 'narrow'?"), "\(errors(["train.preset=narow"]))")
        XCTAssertTrue(errors(["ingest.size=121by65"])[0].contains("must be WIDTHxHEIGHT"), "\(errors(["ingest.size=121by65"]))")
        XCTAssertTrue(errors(["synth.width=97"])[0].contains("width must be even"), "\(errors(["synth.width=97"]))")
    }

    func testTrainingStrategiesAreListed() {
        let strategies = registry().strategies
        let names = Set(strategies.map { "\($0.family)/\($0.name)" })
        for expected in ["kld/per-sample", "kld/batch", "kld/moving-batch", "beta/constant", "beta/dual-gradient", "schedule/seed",
                         "augmentation/none", "augmentation/jitter"] {
            XCTAssertTrue(names.contains(expected), "\(expected) missing from \(names.sorted())")
        }
        let dual = strategies.first { $0.family == "beta" && $0.name == "dual-gradient" }!
        XCTAssertEqual(dual.parameters.first { $0.name == "target" }?.defaultValue, .double(0.1))
        XCTAssertFalse(dual.documentation.isEmpty)
    }

    func testOneVideoWarnsAtIngestAndEvaluateSaysWhyItHasNoTestFrames() throws {
        // One clip: the by-video split holds nothing out. Ingest warns at once; preprocess and
        // train run (a model is still made); evaluate fails saying why, and export does not run.
        let pipeline = try load(Self.pipeline, overrides: ["synth.clips=1", "ingest.test_fraction=1e-9"])
        let work = directory.appendingPathComponent("one")
        XCTAssertThrowsError(try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false)).run()) { error in
            guard let failure = error as? PipelineRunner.RunFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.stage, "evaluate")
            let dataset = work.appendingPathComponent("preprocess/dataset").path
            XCTAssertEqual(failure.message.components(separatedBy: " (log:").first,
                           "stage 'evaluate' (evaluate) failed: \(dataset): the test split has no frames (splits are by video, "
                           + "and no video is in it: a dataset needs two or more videos to fill both)")
            XCTAssertEqual(failure.outcomes.map(\.status), [.ran, .ran, .ran, .ran, .failed, .notRun])
        }
        let log = try String(contentsOf: work.appendingPathComponent(".inkwell/ingest/log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("the test split is empty: splits are by video, and its one video went to train"), log)
    }

    func testIngestWithoutVideosFailsWithReason() throws {
        let pipeline = try load("stages:\n  ingest: {kind: ingest}\n")
        XCTAssertThrowsError(try PipelineRunner(pipeline: pipeline, workDirectory: directory.appendingPathComponent("w"), options: .init(echo: false)).run()) { error in
            XCTAssertEqual("\(error)".components(separatedBy: " (log:").first,
                           "stage 'ingest' (ingest) failed: no videos: bind the 'videos' input or set the 'source' parameter")
        }
    }
}
