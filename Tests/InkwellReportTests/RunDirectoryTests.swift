import Foundation
import InkwellReport
import InkwellTestSupport
import InkwellPipeline
import XCTest

final class RunDirectoryTests: XCTestCase {
    func testReadsEveryPieceOfACompleteRun() throws {
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "run"))
        let run = try RunDirectory(dir)
        XCTAssertNil(run.configProblem)
        XCTAssertNil(run.metricsProblem)
        XCTAssertEqual(run.evaluationProblems, [])
        XCTAssertEqual(run.kldName, "batch")
        XCTAssertEqual(run.betaName, "dual-gradient")
        XCTAssertEqual(run.kldTarget, 0.1)
        XCTAssertEqual(run.label, "\(dir.lastPathComponent) (kld batch, beta dual-gradient, target 0.1)")

        let metrics = try XCTUnwrap(run.metrics)
        XCTAssertEqual(metrics.rowCount, 303)
        XCTAssertEqual(metrics.rows(phase: "train").count, 300)
        XCTAssertEqual(metrics.rows(phase: "test").count, 3)
        XCTAssertEqual(metrics.series("psnr", phase: "test")?.map(\.x), [100, 200, 300])
        XCTAssertTrue(metrics.series("psnr", phase: "train")!.allSatisfy { $0.y.isNaN }, "empty fields read as NaN")

        XCTAssertEqual(run.evaluations.map(\.step), [100, 200, 300])
        let last = try XCTUnwrap(run.evaluations.last)
        XCTAssertEqual(last.latent.dim, 16)
        XCTAssertEqual(last.latent.distanceHistogram.edges.count, 17)
        XCTAssertEqual(last.latent.distanceHistogram.counts.count, 16)
        XCTAssertEqual(last.latent.distanceChiDensity.count, 16)
        XCTAssertEqual(last.kld["moving-batch"] ?? 0, (last.kld["batch"] ?? 0) * 1.1, accuracy: 1e-9)
        XCTAssertEqual(last.diversity.realPairwise, 0.4)
        XCTAssertEqual(last.baselines?.pcaComponents, 16)
        XCTAssertEqual(last.fakesImage, "samples/fakes-step-00000300.png")
        XCTAssertEqual(run.sampleImages["fakes"]?[200], "samples/fakes-step-00000200.png")
        XCTAssertEqual(run.evaluationSteps, [100, 200, 300])
        XCTAssertEqual(run.checkpoints.map(\.name), ["latest", "best-1"])
        XCTAssertEqual(run.checkpoints[0].state?["step"]?.int, 300)
        XCTAssertEqual(run.checkpoints[0].files.first?.bytes, 4096)
    }

    func testMissingPiecesAreReportedNotFatal() throws {
        let dir = try SharedFixtures.temporaryDirectory(self, name: "empty-run")
        let run = try RunDirectory(dir)
        XCTAssertEqual(run.configProblem, "config.json is missing")
        XCTAssertEqual(run.metricsProblem, "metrics.csv is missing (no training steps recorded yet)")
        XCTAssertNil(run.metrics)
        XCTAssertTrue(run.evaluations.isEmpty)
        XCTAssertTrue(run.checkpoints.isEmpty)
        XCTAssertTrue(run.evaluationSteps.isEmpty)
    }

    func testANonexistentRunIsAnErrorNamingIt() {
        let path = "/nonexistent/inkwell-run-\(UUID().uuidString)"
        XCTAssertThrowsError(try RunDirectory(URL(fileURLWithPath: path))) { error in
            XCTAssertEqual("\(error)", "\(path): run directory does not exist")
        }
    }

    func testBrokenFilesAreNamedWithTheReason() throws {
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "broken-run"))
        try Data("{\"kld\": ".utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data("{\"step\": 200, \"pixel_mse\": ".utf8).write(to: dir.appendingPathComponent("evaluations/step-00000200.json"))
        try Data("[1, 2]".utf8).write(to: dir.appendingPathComponent("evaluations/step-00000100.json"))
        // A half-written last line, as when the report is built while training writes.
        let metricsURL = dir.appendingPathComponent("metrics.csv")
        try (String(contentsOf: metricsURL, encoding: .utf8) + "train,99.5,301,3,0.1").write(to: metricsURL, atomically: true, encoding: .utf8)

        let run = try RunDirectory(dir)
        XCTAssertNil(run.config)
        XCTAssertTrue(run.configProblem?.hasPrefix("config.json: not valid JSON") == true, run.configProblem ?? "nil")
        XCTAssertEqual(run.evaluations.map(\.step), [300])
        XCTAssertEqual(run.evaluationProblems.count, 2)
        XCTAssertTrue(run.evaluationProblems.contains("evaluations/step-00000100.json: not a JSON object"), "\(run.evaluationProblems)")
        XCTAssertTrue(run.evaluationProblems.contains { $0.hasPrefix("evaluations/step-00000200.json: not valid JSON") }, "\(run.evaluationProblems)")
        let metrics = try XCTUnwrap(run.metrics)
        XCTAssertEqual(metrics.rowCount, 303)
        XCTAssertEqual(metrics.problems.count, 1)
        XCTAssertTrue(metrics.problems[0].hasSuffix("metrics.csv line 305: 5 fields, header has 24; row skipped"), metrics.problems[0])
        // The step of the sample images without a readable evaluation file is still listed.
        XCTAssertEqual(run.evaluationSteps, [100, 200, 300])
    }

    func testMetricsColumnsAreFoundByNameInAnyOrder() throws {
        let table = try MetricsTable(text: "step,phase,pixel,extra\r\n1,train,0.5,x\r\n2,test,0.25,\"a,b\"\r\n\r\n")
        XCTAssertEqual(table.rowCount, 2)
        XCTAssertEqual(table.phases, ["train", "test"])
        XCTAssertEqual(table.series("pixel", phase: "test"), [PlotPoint(x: 2, y: 0.25)])
        XCTAssertNil(table.series("kld", phase: nil))
        XCTAssertTrue(table.value("extra", row: 1).isNaN)
        XCTAssertTrue(table.problems.isEmpty, "\(table.problems)")
        XCTAssertThrowsError(try MetricsTable(text: "\n\n", source: "m.csv")) { error in
            XCTAssertEqual("\(error)", "m.csv: empty file (no header line)")
        }
    }

    /// Evaluation files are read in the one schema (`EvaluationResult`): the step falls back to
    /// the file name, non-finite numbers spelled as strings read as such, and a field of the wrong
    /// type is an error naming the file and the field.
    func testEvaluationStepFallsBackToTheFileName() throws {
        let dir = try SharedFixtures.temporaryDirectory(self, name: "eval")
        let run = try RunFixture().write(to: dir.appendingPathComponent("run"))
        let written = try String(contentsOf: run.appendingPathComponent("evaluations/step-00000300.json"), encoding: .utf8)
        let url = dir.appendingPathComponent("step-00000700.json")
        let withoutStep = written.replacingOccurrences(of: "\"step\": 300,", with: "")
            .replacingOccurrences(of: #""psnr": [0-9.e+-]+"#, with: #""psnr": "NaN""#, options: .regularExpression)
        try Data(withoutStep.utf8).write(to: url)
        let e = try EvaluationRecord(contentsOf: url)
        XCTAssertEqual(e.step, 700)
        XCTAssertEqual(e.epoch, 3)
        XCTAssertTrue(e.psnr.isNaN)
        XCTAssertEqual(e.latent.dim, 16)
        let wrongType = dir.appendingPathComponent("step-00000800.json")
        try Data(withoutStep.replacingOccurrences(of: "\"latent\": {", with: "\"latent\": 3, \"unused\": {").utf8).write(to: wrongType)
        XCTAssertThrowsError(try EvaluationRecord(contentsOf: wrongType)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(wrongType.path): not an evaluation ('latent': "), "\(error)")
        }
        let noStep = dir.appendingPathComponent("eval.json")
        try Data("{}".utf8).write(to: noStep)
        XCTAssertThrowsError(try EvaluationRecord(contentsOf: noStep)) { error in
            XCTAssertEqual("\(error)", "\(noStep.path): no `step` field")
        }
    }

    func testStageTimingsFromTheTimingsFileAndThePipelineRecords() throws {
        let work = try SharedFixtures.temporaryDirectory(self, name: "work")
        let dir = try RunFixture().write(to: work.appendingPathComponent("train/run"))
        for (stage, seconds, started) in [("ingest", 12.5, "2026-01-01T10:00:00Z"), ("train", 3600.0, "2026-01-01T10:01:00Z"),
                                          ("synth", 4.0, "2026-01-01T09:59:00Z")] {
            let folder = work.appendingPathComponent(".inkwell/\(stage)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // A completion record as the pipeline runner writes it (`StageRecord`).
            let record = """
                {"stage": "\(stage)", "kind": "\(stage)", "version": 1, "key": "k", "inputs": {}, "outputs": {},
                 "started": "\(started)", "finished": "\(started)", "seconds": \(seconds)}
                """
            try Data(record.utf8).write(to: StageRecord.url(workDirectory: work, stage: stage))
        }
        // A stage still running has no record.
        try FileManager.default.createDirectory(at: work.appendingPathComponent(".inkwell/export"), withIntermediateDirectories: true)
        try Data("{\"evaluate\": {\"seconds\": 2.5}}".utf8).write(to: dir.appendingPathComponent("timings.json"))
        let run = try RunDirectory(dir)
        XCTAssertEqual(run.stageTimings.map(\.name), ["evaluate", "synth", "ingest", "train"])
        XCTAssertEqual(run.stageTimings.map(\.seconds), [2.5, 4, 12.5, 3600])
        let html = RunReport(run: run, images: .link).html(outputDirectory: dir)
        XCTAssertTrue(html.contains("<td>pipeline stage train</td><td class=\"num\">1 h 00 min</td>"))
    }
}
