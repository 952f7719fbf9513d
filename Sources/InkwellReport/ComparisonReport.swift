import Foundation
import InkwellTraining
import InkwellVideo
import InkwellFiles

/// One HTML page overlaying the curves of several runs (the ablation comparison): a table of the
/// runs' key settings and final figures, one chart per quantity with a line per run (labelled by
/// folder name and KLD/beta strategy), and each run's last fake grid.
public struct ComparisonReport {
    public var runs: [RunDirectory]
    public var images: ImageMode

    /// Short names that tell the runs apart, and series labels (name and key configuration).
    let names: [String]
    let labels: [String]

    public init(runs: [RunDirectory], images: ImageMode = .automatic) {
        self.runs = runs
        self.images = images
        self.names = ComparisonReport.distinguishingNames(runs.map(\.url))
        self.labels = zip(runs, names).map { $0.label(named: $1) }
    }

    /// Loads the runs, writes the comparison to `output` atomically and returns it. A run folder
    /// that does not exist is an error naming it (before anything is written).
    @discardableResult
    public static func write(runDirectories: [URL], to output: URL, images: ImageMode = .automatic) throws -> URL {
        let runs = try runDirectories.map { try RunDirectory($0) }
        let report = ComparisonReport(runs: runs, images: images)
        let output = output.standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw ReportError.writeFailed(output.path, reason: "cannot create its folder")
        }
        try AtomicFile.write(Data(report.html(outputDirectory: output.deletingLastPathComponent()).utf8), to: output)
        return output
    }

    /// The folder name of each run, or as many trailing path components as it takes to tell them
    /// apart (`ablation-batch/train/run` against `ablation-per-sample/train/run`).
    static func distinguishingNames(_ urls: [URL]) -> [String] {
        let components = urls.map { $0.pathComponents.filter { $0 != "/" } }
        let longest = components.map(\.count).max() ?? 1
        for k in 1...max(1, longest) {
            let candidate = components.map { $0.suffix(k).joined(separator: "/") }
            if Set(candidate).count == candidate.count { return candidate }
        }
        // The same folder given twice.
        return components.enumerated().map { "\($0.element.joined(separator: "/")) #\($0.offset + 1)" }
    }

    func color(_ index: Int) -> String { ChartPalette.color(index) }

    /// A chart with one series per run from `points(run)` (nil or empty: that run has no data and
    /// is listed in the chart's note).
    func overlay(_ title: String, yLabel: String, scale: AxisScale = .linear, include: [Double] = [], markers: Bool = false,
                 thin: Bool = true, extra: (Int, RunDirectory) -> [PlotSeries] = { _, _ in [] },
                 _ points: (RunDirectory) -> [PlotPoint]?) -> LineChart {
        var series: [PlotSeries] = []
        var without: [String] = []
        for (i, run) in runs.enumerated() {
            guard let p = points(run), !p.isEmpty else { without.append(names[i]); continue }
            let s = PlotSeries(label: labels[i], points: p, color: color(i), markers: markers)
            series.append(thin ? s.thinned(maxPoints: RunCharts.maxCurvePoints) : s)
        }
        for (i, run) in runs.enumerated() { series += extra(i, run) }
        var chart = LineChart(title: title, yLabel: yLabel, series: series, yScale: scale, yMustInclude: include,
                              width: 620, height: 320)
        if !without.isEmpty { chart.emptyNote = "no data for \(without.joined(separator: ", "))" }
        if !without.isEmpty && !series.isEmpty { chart.title += " (no data: \(without.joined(separator: ", ")))" }
        return chart
    }

    func charts() -> [LineChart] {
        func test(_ run: RunDirectory, _ column: String, _ fallback: (EvaluationRecord) -> Double?) -> [PlotPoint]? {
            let rows = run.metrics?.series(column, phase: "test") ?? []
            if !rows.isEmpty { return rows }
            let fromEvaluations = run.evaluations.compactMap { e in fallback(e).map { PlotPoint(x: Double(e.step), y: $0) } }
            return fromEvaluations
        }
        let targetLines: (Int, RunDirectory) -> [PlotSeries] = { i, run in
            guard let target = run.kldTarget,
                  let line = RunCharts.horizontalLine(at: target, over: self.runs.compactMap { $0.metrics?.series("kld", phase: "train") }
                      .map { PlotSeries(label: "", points: $0) }) else { return [] }
            return [PlotSeries(label: "target of \(self.names[i]): \(NumberFormat.compact(target))", points: line, color: self.color(i), dashed: true)]
        }
        return [
            overlay("Test pixel error", yLabel: "pixel MSE", scale: .log, markers: true, thin: false) { test($0, "pixel") { $0.pixelMSE } },
            overlay("Train pixel error", yLabel: "pixel MSE", scale: .log) { $0.metrics?.series("pixel", phase: "train") },
            overlay("KLD (train) against targets", yLabel: "KLD", scale: .log, extra: targetLines) { $0.metrics?.series("kld", phase: "train") },
            overlay("Beta", yLabel: "beta", scale: .log) { $0.metrics?.series("beta", phase: "train") },
            overlay("Fake diversity / real diversity", yLabel: "ratio", include: [0], markers: true, thin: false) { RunCharts.diversityPoints($0).0 },
            overlay("Collapsed fraction of fakes", yLabel: "fraction", include: [0, 1], markers: true, thin: false) { RunCharts.diversityPoints($0).1 },
            overlay("Test PSNR", yLabel: "dB", markers: true, thin: false) { test($0, "psnr") { $0.psnr } },
            overlay("Feature-matching error (train)", yLabel: "MSE of D features", scale: .log) { $0.metrics?.series("feats", phase: "train") },
            overlay("Mean distance of encoded samples from the origin", yLabel: "mean |z|", include: [0], markers: true, thin: false) { run in
                run.evaluations.compactMap { e in RunCharts.histogramMean(e.latent).map { PlotPoint(x: Double(e.step), y: $0) } }
            },
            overlay("Generator loss on reconstructions (train)", yLabel: "BCE", scale: .log) { $0.metrics?.series("gen_recon", phase: "train") },
            overlay("Discriminator loss on real frames (train)", yLabel: "BCE", scale: .log) { $0.metrics?.series("disc_real", phase: "train") },
        ]
    }

    public func html(outputDirectory: URL) -> String {
        var body = "<h1>Inkwell comparison of \(runs.count) run\(runs.count == 1 ? "" : "s")</h1>"
        body += "<p class=\"subtitle\">" + runs.map { Markup.escape($0.url.path) }.joined(separator: "<br>") + "</p>"
        body += "<h2 id=\"runs\">Runs</h2><div class=\"table-wrap\" style=\"display:inline-block\"><table><thead><tr>"
        let columns = ["run", "KLD", "beta", "target", "last step", "best test pixel MSE", "last PSNR", "last diversity", "last collapsed", "problems"]
        body += columns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>"
        for (i, run) in runs.enumerated() {
            let lastStep = run.metrics.flatMap { m in m.rows(phase: "train").last.map { m.value("step", row: $0) } }
            let best = run.evaluations.map { e in (e.step, e.pixelMSE) }.filter { $0.1.isFinite }.min { $0.1 < $1.1 }
            let last = run.evaluations.last
            let problems = [run.configProblem, run.metricsProblem].compactMap { $0 } + run.evaluationProblems
                + (run.evaluations.isEmpty ? ["no evaluation yet"] : [])
            let report = ReportImages.relativePath(from: outputDirectory, to: RunLayout(run.url).report)
            let hasReport = FileManager.default.fileExists(atPath: RunLayout(run.url).report.path)
            let nameCell = "<span style=\"color:\(color(i))\">&#9632;</span> " + (hasReport
                ? "<a href=\"\(Markup.escape(report))\">\(Markup.escape(names[i]))</a>" : Markup.escape(names[i]))
            var cells: [String] = [nameCell, Markup.escape(run.kldName ?? "?"), Markup.escape(run.betaName ?? "?")]
            cells.append(run.kldTarget.map { NumberFormat.compact($0) } ?? "")
            cells.append(lastStep.map { NumberFormat.compact($0) } ?? "")
            if let b = best { cells.append("\(NumberFormat.compact(b.1)) @ \(b.0)") } else { cells.append("") }
            cells.append(last.map { NumberFormat.compact($0.psnr) } ?? "")
            cells.append(last.map { NumberFormat.compact($0.diversity.ratio) } ?? "")
            cells.append(last.map { NumberFormat.compact($0.collapsedFraction) } ?? "")
            let problemText = problems.map { Markup.escape($0) }.joined(separator: "<br>")
            cells.append(problems.isEmpty ? "" : "<span class=\"missing\" style=\"display:block\">\(problemText)</span>")
            body += "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        body += "</tbody></table></div>"
        body += "<h2 id=\"curves\">Curves</h2><div class=\"charts\">" + charts().map { "<div>\($0.svg())</div>" }.joined() + "</div>"

        body += "<h2 id=\"fakes\">Last fakes of each run</h2><div class=\"run-grid\">"
        var files: [URL] = []
        var shown: [(Int, RunDirectory, Int?, String?)] = []
        for (i, run) in runs.enumerated() {
            let step = run.evaluationSteps.last
            let path = step.map { s in run.evaluations.first { $0.step == s }?.fakesImage ?? run.sampleImages["fakes"]?[s] ?? RunLayout.samplePath("fakes", step: s) }
            if let p = path { files.append(run.file(p)) }
            shown.append((i, run, step, path))
        }
        let imager = ReportImages(mode: images, files: files, outputDirectory: outputDirectory)
        for (i, run, step, path) in shown {
            body += "<div><h3><span style=\"color:\(color(i))\">&#9632;</span> \(Markup.escape(labels[i]))\(step.map { ", step \($0)" } ?? "")</h3>"
            if let p = path {
                body += imager.image(run.file(p), displayPath: "\(names[i])/\(p)", alt: "fakes of \(names[i])")
            } else {
                body += "<div class=\"missing\">no evaluation yet</div>"
            }
            body += "</div>"
        }
        body += "</div>"
        return ReportPage.document(title: "Inkwell comparison: " + runs.map(\.name).joined(separator: ", "), body: body)
    }
}
