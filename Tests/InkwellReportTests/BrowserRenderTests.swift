import Foundation
import InkwellReport
import InkwellTestSupport
import InkwellVideo
import XCTest

/// Renders reports in a real headless Chromium: no script errors, every image drawn, the charts in
/// the DOM, and a screenshot that is not blank. Set INKWELL_KEEP_SCREENSHOTS=DIR to keep the
/// screenshots for looking at.
final class BrowserRenderTests: XCTestCase {
    func keep(_ screenshot: URL, as name: String) {
        guard let dir = ProcessInfo.processInfo.environment["INKWELL_KEEP_SCREENSHOTS"], !dir.isEmpty else { return }
        let target = URL(fileURLWithPath: dir).appendingPathComponent(name)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: target)
        try? FileManager.default.copyItem(at: screenshot, to: target)
    }

    /// Checks the self-check attributes of a loaded page; returns the image count.
    @discardableResult
    func assertPageLoadedCleanly(_ result: HeadlessChromium.Result, minimumCharts: Int, images: Int,
                                 file: StaticString = #filePath, line: UInt = #line) -> Int {
        let dom = result.stdout
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-ready", in: dom), "1",
                       "the page's load handler did not run; stderr: \(result.stderr.suffix(2000))", file: file, line: line)
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-js-errors", in: dom), "", "script errors", file: file, line: line)
        XCTAssertEqual(result.consoleErrors, [], "console errors", file: file, line: line)
        XCTAssertGreaterThanOrEqual(Int(HeadlessChromium.htmlAttribute("data-svg-count", in: dom) ?? "") ?? -1, minimumCharts,
                                    file: file, line: line)
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-total", in: dom), "\(images)", file: file, line: line)
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-drawn", in: dom), "\(images)",
                       "images with naturalWidth > 0", file: file, line: line)
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-failed", in: dom), "0", file: file, line: line)
        return images
    }

    /// Decodes the screenshot and checks it is not blank: bright and dark pixels, variance, and
    /// pixels of the chart palette's first colour (lines and bars).
    func assertScreenshotDrawn(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try PNGImage.read(from: url)
        XCTAssertGreaterThanOrEqual(image.width, 1000, file: file, line: line)
        var sum = 0.0, sumSquares = 0.0, chartBlue = 0, dark = 0
        let n = image.width * image.height
        for i in 0..<n {
            let r = Double(image.pixels[3 * i]), g = Double(image.pixels[3 * i + 1]), b = Double(image.pixels[3 * i + 2])
            let luma = 0.299 * r + 0.587 * g + 0.114 * b
            sum += luma
            sumSquares += luma * luma
            if luma < 80 { dark += 1 }
            // #4e79a7 (the first series colour) and its 55 % tint on white (histogram bars).
            if (abs(r - 78) < 12 && abs(g - 121) < 12 && abs(b - 167) < 12) || (abs(r - 158) < 12 && abs(g - 181) < 12 && abs(b - 207) < 12) {
                chartBlue += 1
            }
        }
        let mean = sum / Double(n)
        let variance = sumSquares / Double(n) - mean * mean
        XCTAssertGreaterThan(variance, 100, "screenshot is (nearly) blank: luma variance \(variance)", file: file, line: line)
        XCTAssertGreaterThan(dark, n / 500, "almost no text or dark pixels", file: file, line: line)
        XCTAssertGreaterThan(chartBlue, 2000, "charts' lines and bars are not visible", file: file, line: line)
    }

    func testRunReportRendersInChromium() throws {
        let chromium = try HeadlessChromium.require(self)
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "browser-run"))
        let page = try RunReport.write(runDirectory: dir, images: .link)

        let dom = try chromium.dumpDOM(page)
        assertPageLoadedCleanly(dom, minimumCharts: 14, images: 6)
        XCTAssertTrue(dom.stdout.contains("step 300  (3 of 3)"), "the step viewer shows the last step")

        let shot = dir.appendingPathComponent("shot.png")
        _ = try chromium.screenshot(page, to: shot)
        try assertScreenshotDrawn(shot)
        keep(shot, as: "run-report.png")
        if ProcessInfo.processInfo.environment["INKWELL_KEEP_SCREENSHOTS"] != nil {
            _ = try chromium.screenshot(page, to: shot, height: 7000)
            keep(shot, as: "run-report-full.png")
        }
    }

    func testEmbeddedReportRendersWhenMovedAway() throws {
        let chromium = try HeadlessChromium.require(self)
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "browser-embed"))
        let elsewhere = try SharedFixtures.temporaryDirectory(self, name: "moved")
        let html = RunReport(run: try RunDirectory(dir), images: .embed).html(outputDirectory: dir)
        let page = elsewhere.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        try FileManager.default.removeItem(at: dir)
        assertPageLoadedCleanly(try chromium.dumpDOM(page), minimumCharts: 14, images: 6)
    }

    func testReportWithMissingPiecesRendersTheRest() throws {
        let chromium = try HeadlessChromium.require(self)
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "browser-missing"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("samples/fakes-step-00000300.png"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("evaluations/step-00000100.json"))
        let page = try RunReport.write(runDirectory: dir, images: .link)
        let dom = try chromium.dumpDOM(page)
        assertPageLoadedCleanly(dom, minimumCharts: 13, images: 5)
        XCTAssertTrue(dom.stdout.contains("missing: <code>samples/fakes-step-00000300.png</code>"))
        let shot = dir.appendingPathComponent("shot.png")
        _ = try chromium.screenshot(page, to: shot, height: 1600)
        try assertScreenshotDrawn(shot)
        keep(shot, as: "run-report-missing.png")
    }

    /// The checks can fail: a script error, and an image that exists but cannot be decoded, are
    /// both caught on the real page.
    func testSelfCheckCatchesScriptErrorsAndBrokenImages() throws {
        let chromium = try HeadlessChromium.require(self)
        let dir = try RunFixture().write(to: SharedFixtures.temporaryDirectory(self, name: "browser-broken"))
        // A PNG header followed by garbage: passes the report's header check, fails in the browser.
        let png = dir.appendingPathComponent("samples/recon-step-00000200.png")
        let header = try Data(contentsOf: png).prefix(33)
        try (header + Data(repeating: 0x55, count: 64)).write(to: png)
        let page = try RunReport.write(runDirectory: dir, images: .link)
        var html = try String(contentsOf: page, encoding: .utf8)
        html = html.replacingOccurrences(of: "</body>", with: "<script>inkwellNoSuchFunction();</script></body>")
        try Data(html.utf8).write(to: page)
        let result = try chromium.dumpDOM(page)
        XCTAssertTrue(result.consoleErrors.contains { $0.contains("inkwellNoSuchFunction") },
                      "the console error was not found on stderr: \(result.stderr.suffix(1500))")
        let dom = result.stdout
        XCTAssertTrue(HeadlessChromium.htmlAttribute("data-js-errors", in: dom)?.contains("inkwellNoSuchFunction") == true,
                      "the script error was not recorded")
        XCTAssertEqual(HeadlessChromium.htmlAttribute("data-images-failed", in: dom), "1")
        XCTAssertTrue(dom.contains("image could not be displayed: samples/recon-step-00000200.png"))
    }

    func testComparisonRendersInChromium() throws {
        let chromium = try HeadlessChromium.require(self)
        let root = try SharedFixtures.temporaryDirectory(self, name: "browser-compare")
        var a = RunFixture()
        a.kld = "per-sample"
        var b = RunFixture()
        b.target = 0.2
        b.pixelScale = 1.6
        b.variant = 1
        var c = RunFixture()
        c.variant = 2
        c.kld = "moving-batch"
        c.steps = 200
        let runs = try [("per-sample", a), ("target-0.2", b), ("moving-batch", c)].map { try $0.1.write(to: root.appendingPathComponent($0.0)) }
        let page = try ComparisonReport.write(runDirectories: runs, to: root.appendingPathComponent("compare.html"), images: .link)
        assertPageLoadedCleanly(try chromium.dumpDOM(page), minimumCharts: 11, images: 3)
        let shot = root.appendingPathComponent("shot.png")
        _ = try chromium.screenshot(page, to: shot, height: 2000)
        try assertScreenshotDrawn(shot)
        keep(shot, as: "compare.png")
    }
}
