import Foundation
import InkwellReport
import InkwellTestSupport
import XCTest

final class RunReportTests: XCTestCase {
    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testReportOfACompleteRunHasEverySection() throws {
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "run"))
        let output = try RunReport.write(runDirectory: dir, images: .link)
        XCTAssertEqual(output.lastPathComponent, "report.html")
        let html = try String(contentsOf: output, encoding: .utf8)
        for id in ["summary", "parameters", "timings", "plots", "samples", "files", "metrics"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), "section \(id)")
        }
        XCTAssertEqual(count("<svg xmlns", in: html), 12 + 3, "12 plots and a histogram per evaluation step")
        XCTAssertTrue(html.contains("At step 300 the model&#39;s test PSNR") || html.contains("At step 300 the model's test PSNR"), "baseline verdict")
        XCTAssertTrue(html.contains("the 16-component PCA (19.03 dB)") && html.contains("training split&#39;s mean frame (17.57 dB)")
                      || html.contains("training split's mean frame (17.57 dB)"), "both baselines named with their PSNR")
        XCTAssertTrue(html.contains("Test PSNR against baselines") && html.contains("Fréchet distance of fakes"), "the two charts")
        XCTAssertEqual(count("class=\"step-frame\"", in: html), 3)
        XCTAssertEqual(count("<img src=\"samples/", in: html), 6)
        XCTAssertTrue(html.contains("<img src=\"samples/fakes-step-00000300.png\" width=\"258\" height=\"78\""), "size from the PNG header")
        XCTAssertEqual(count("class=\"missing\"", in: html), 1, "only the video is missing in this run")
        XCTAssertTrue(html.contains("no video yet"))
        XCTAssertTrue(html.contains("/data/&lt;splatoon&gt; &amp; friends"), "config values are escaped")
        XCTAssertTrue(html.contains("href=\"checkpoints/latest/model.safetensors\""))
        XCTAssertTrue(html.contains("target 0.1"), "KLD chart has its target line")
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http"), "no external resources")
        XCTAssertEqual(count("<tr class=\"test\">", in: html), 3, "every test row is in the table")
        // No temporary file left beside the report.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testEmbeddedImagesMakeTheReportStandAlone() throws {
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "run"))
        let html = RunReport(run: try RunDirectory(dir), images: .embed).html(outputDirectory: dir)
        XCTAssertEqual(count("<img src=\"data:image/png;base64,iVBORw0KGgo", in: html), 6)
        let tiny = RunReport(run: try RunDirectory(dir), images: .auto(maxBytes: 10)).html(outputDirectory: dir)
        XCTAssertEqual(count("<img src=\"samples/", in: tiny), 6, "over the limit, images are linked")
    }

    func testMissingPiecesAreSaidWhereTheyWouldBeShown() throws {
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "run"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("samples/fakes-step-00000200.png"))
        try Data("not a png at all, really".utf8).write(to: dir.appendingPathComponent("samples/recon-step-00000100.png"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("evaluations/step-00000300.json"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("checkpoints"))
        let html = try String(contentsOf: RunReport.write(runDirectory: dir, images: .link), encoding: .utf8)
        XCTAssertTrue(html.contains("missing: <code>samples/fakes-step-00000200.png</code> (file not found)"))
        XCTAssertTrue(html.contains("unreadable: <code>samples/recon-step-00000100.png</code> is not a PNG image"))
        XCTAssertTrue(html.contains("no evaluation file for step 300"))
        XCTAssertTrue(html.contains("no checkpoints: <code>checkpoints/</code> is missing or empty"))
        XCTAssertTrue(html.contains("no video yet"))
        XCTAssertEqual(count("<img src=", in: html), 4, "the other images are still shown")
        XCTAssertEqual(count("class=\"step-frame\"", in: html), 3, "step 300 still shows its images")
    }

    func testReportOfARunWithNothingYet() throws {
        let dir = try SharedFixtures.temporaryDirectory(self, name: "fresh-run")
        let html = try String(contentsOf: RunReport.write(runDirectory: dir), encoding: .utf8)
        XCTAssertTrue(html.contains("config.json is missing"))
        XCTAssertTrue(html.contains("metrics.csv is missing"))
        XCTAssertTrue(html.contains("no evaluation yet"))
        XCTAssertEqual(count("<svg xmlns", in: html), 12, "every plot is drawn, empty")
        XCTAssertGreaterThanOrEqual(count(">no data</text>", in: html), 10)
    }

    func testComparisonOverlaysEveryRun() throws {
        let root = try SharedFixtures.temporaryDirectory(self, name: "ablation")
        var a = RunFixture()
        a.kld = "per-sample"
        var b = RunFixture()
        b.target = 0.2
        b.pixelScale = 1.5
        let runA = try a.write(to: root.appendingPathComponent("kld-per-sample"))
        let runB = try b.write(to: root.appendingPathComponent("target-0.2"))
        let empty = root.appendingPathComponent("not-started")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let output = try ComparisonReport.write(runDirectories: [runA, runB, empty], to: root.appendingPathComponent("out/compare.html"),
                                                images: .link)
        let html = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(html.contains("kld-per-sample (kld per-sample, beta dual-gradient, target 0.1)"))
        XCTAssertTrue(html.contains("target-0.2 (kld batch, beta dual-gradient, target 0.2)"))
        XCTAssertTrue(html.contains("target of target-0.2: 0.2"))
        XCTAssertTrue(html.contains("<img src=\"../kld-per-sample/samples/fakes-step-00000300.png\""), "links relative to the output")
        XCTAssertTrue(html.contains("no data: not-started"))
        XCTAssertEqual(count("<svg xmlns", in: html), 11)
        XCTAssertThrowsError(try ComparisonReport.write(runDirectories: [runA, root.appendingPathComponent("typo")],
                                                        to: root.appendingPathComponent("c.html"))) { error in
            XCTAssertTrue("\(error)".hasSuffix("typo: run directory does not exist"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("c.html").path))
    }

    func testComparedRunsWithTheSameFolderNameAreToldApartByTheirPath() throws {
        let root = try SharedFixtures.temporaryDirectory(self, name: "same-names")
        var a = RunFixture()
        a.kld = "per-sample"
        let runA = try a.write(to: root.appendingPathComponent("ablation-per-sample/train/run"))
        let runB = try RunFixture().write(to: root.appendingPathComponent("ablation-batch/train/run"))
        let html = try String(contentsOf: ComparisonReport.write(runDirectories: [runA, runB], to: root.appendingPathComponent("c.html"), images: .link),
                              encoding: .utf8)
        XCTAssertTrue(html.contains("ablation-per-sample/train/run (kld per-sample, beta dual-gradient, target 0.1)"))
        XCTAssertTrue(html.contains("ablation-batch/train/run (kld batch, beta dual-gradient, target 0.1)"))
        let twice = try String(contentsOf: ComparisonReport.write(runDirectories: [runB, runB], to: root.appendingPathComponent("d.html"), images: .link),
                               encoding: .utf8)
        XCTAssertTrue(twice.contains("run #2"))
    }

    func testALongRunStaysSmall() throws {
        var fixture = RunFixture()
        fixture.steps = 20_000
        fixture.evalEvery = 5_000
        let dir = try fixture.write(to: SharedFixtures.temporaryDirectory(self, name: "long-run"))
        let html = RunReport(run: try RunDirectory(dir), images: .link).html(outputDirectory: dir)
        // Curves are thinned to 400 points, the table to about 200 training rows.
        let longest = html.components(separatedBy: "points=\"").dropFirst().map { $0.prefix { $0 != "\"" }.split(separator: " ").count }.max() ?? 0
        XCTAssertLessThanOrEqual(longest, 400)
        XCTAssertGreaterThan(longest, 300)
        let rows = html.components(separatedBy: "<tr>").count - 1 + html.components(separatedBy: "<tr class=\"test\">").count - 1
        XCTAssertLessThan(rows, 260, "metrics table rows")
        XCTAssertTrue(html.contains("every 100th training row"))
        XCTAssertLessThan(html.utf8.count, 1_000_000, "report of a 20,000-step run is \(html.utf8.count) bytes")
    }

    func testVideosOutsideTheRunAreLinkedRelativeToTheReport() throws {
        let work = try SharedFixtures.temporaryDirectory(self, name: "work")
        let dir = try RunFixture().write(to: work.appendingPathComponent("train/run"))
        let export = work.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: export.appendingPathComponent("reconstructions"), withIntermediateDirectories: true)
        let video = export.appendingPathComponent("reconstructions/reconstruction clip-000.mp4")
        try Data(repeating: 0, count: 16).write(to: video)
        let gone = export.appendingPathComponent("reconstructions/gone.mp4")
        let html = RunReport(run: try RunDirectory(dir), images: .link, videos: [video, gone]).html(outputDirectory: export)
        XCTAssertTrue(html.contains("<a href=\"reconstructions/reconstruction%20clip-000.mp4\">reconstruction clip-000.mp4</a>"))
        XCTAssertTrue(html.contains("missing: <code>\(gone.path)</code> (file not found)"))
        XCTAssertFalse(html.contains("no video yet"))
        XCTAssertTrue(html.contains("<img src=\"../train/run/samples/fakes-step-00000300.png\""), "images relative to the export folder")
    }
}
