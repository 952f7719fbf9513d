import Foundation
import InkwellTraining
import InkwellVideo
import InkwellFiles

/// The HTML report of one run (`RUN/report.html`): summary, parameters, timings, plots, the
/// fixed-latent fakes and reconstructions at every evaluation step (a step viewer), checkpoints
/// and videos, and the metrics table. Missing pieces are said where they would be shown.
public struct RunReport {
    public var run: RunDirectory
    public var images: ImageMode
    /// The metrics table shows at most about this many training rows (every Nth) plus every test
    /// row and the last row.
    public var maxTableRows: Int
    /// Reconstruction videos kept outside the run directory (the export stage's), shown with the
    /// run's own `.mp4` files.
    public var videos: [URL]

    public init(run: RunDirectory, images: ImageMode = .automatic, maxTableRows: Int = 200) {
        self.init(run: run, images: images, maxTableRows: maxTableRows, videos: [])
    }

    /// A report that also shows `videos` (files outside the run, e.g. the export stage's).
    public init(run: RunDirectory, images: ImageMode = .automatic, maxTableRows: Int = 200, videos: [URL]) {
        self.run = run
        self.images = images
        self.maxTableRows = maxTableRows
        self.videos = videos
    }

    /// Loads the run at `directory`, writes `report.html` into it and returns its URL.
    @discardableResult
    public static func write(runDirectory directory: URL, images: ImageMode = .automatic) throws -> URL {
        try RunReport(run: try RunDirectory(directory), images: images).write()
    }

    /// Writes `report.html` into the run directory atomically (temporary name, then rename) and
    /// returns its URL.
    @discardableResult
    public func write() throws -> URL {
        let output = RunLayout(run.url).report
        try AtomicFile.write(Data(html(outputDirectory: run.url).utf8), to: output)
        return output
    }

    /// The report page for a file written into `outputDirectory` (links are relative to it).
    public func html(outputDirectory: URL) -> String {
        let imageFiles = run.evaluationSteps.flatMap { step in imagePaths(step: step).map { run.file($0.path) } }
        let imager = ReportImages(mode: images, files: imageFiles, outputDirectory: outputDirectory)
        var body = ""
        body += "<h1>Inkwell run <code>\(Markup.escape(run.name))</code></h1>"
        let strategies = [run.kldName.map { "KLD \($0)" }, run.betaName.map { "beta \($0)" },
                          run.kldTarget.map { "KLD target \(NumberFormat.compact($0))" }].compactMap { $0 }
        body += "<p class=\"subtitle\">\(Markup.escape(run.url.path))\(strategies.isEmpty ? "" : " &middot; " + Markup.escape(strategies.joined(separator: ", ")))</p>"
        body += "<nav><a href=\"#summary\">summary</a><a href=\"#parameters\">parameters</a><a href=\"#timings\">timings</a><a href=\"#plots\">plots</a><a href=\"#samples\">samples</a><a href=\"#files\">checkpoints &amp; video</a><a href=\"#metrics\">metrics</a></nav>"
        body += summarySection()
        body += parametersSection()
        body += timingsSection()
        body += plotsSection()
        body += samplesSection(imager)
        body += filesSection(outputDirectory: outputDirectory)
        body += metricsSection()
        return ReportPage.document(title: "Inkwell run \(run.name)", body: body)
    }

    // MARK: Sections

    func summarySection() -> String {
        var cards: [(String, String)] = []
        let m = run.metrics
        let trainRows = m?.rows(phase: "train") ?? []
        if let last = trainRows.last, let m = m {
            cards.append(("last step", NumberFormat.compact(m.value("step", row: last))))
            if m.has("epoch") { cards.append(("epoch", NumberFormat.compact(m.value("epoch", row: last)))) }
            if m.has("time") { cards.append(("training time", DurationFormat.words(m.value("time", row: m.rowCount - 1)))) }
            if m.has("beta") { cards.append(("beta now", NumberFormat.compact(m.value("beta", row: last)))) }
            if m.has("kld") { cards.append(("KLD now", NumberFormat.compact(m.value("kld", row: last)))) }
        }
        cards.append(("evaluations", "\(run.evaluations.count)"))
        if let best = run.evaluations.filter({ $0.pixelMSE.isFinite }).min(by: { $0.pixelMSE < $1.pixelMSE }) {
            cards.append(("best test pixel MSE", "\(NumberFormat.compact(best.pixelMSE)) @ \(best.step)"))
        }
        if let last = run.evaluations.last {
            cards.append(("last test PSNR", "\(NumberFormat.compact(last.psnr)) dB"))
            cards.append(("last fake diversity", NumberFormat.compact(last.diversity.ratio)))
            cards.append(("last collapsed fraction", NumberFormat.compact(last.collapsedFraction)))
        }
        var html = "<h2 id=\"summary\">Summary</h2><div class=\"cards\">"
        for (k, v) in cards { html += "<div class=\"card\"><div class=\"k\">\(Markup.escape(k))</div><div class=\"v\">\(Markup.escape(v))</div></div>" }
        html += "</div>"
        if let last = run.evaluations.last, let verdict = Self.baselineVerdict(last) {
            html += "<p class=\"verdict\">\(Markup.escape(verdict))</p>"
        }
        let problems = [run.configProblem, run.metricsProblem].compactMap { $0 } + (run.metrics?.problems ?? [])
            + run.evaluationProblems + [run.timingsProblem].compactMap { $0 }
            + (run.evaluationSteps.isEmpty ? ["no evaluation yet: evaluations/ has no step-*.json and samples/ has no images"] : [])
        if !problems.isEmpty {
            html += "<div class=\"missing\"><strong>Missing or unreadable:</strong><ul>"
            for p in problems { html += "<li>\(Markup.escape(p))</li>" }
            html += "</ul></div>"
        }
        return html
    }

    func parametersSection() -> String {
        var html = "<h2 id=\"parameters\">Parameters</h2>"
        guard let config = run.config else {
            return html + "<div class=\"missing\">\(Markup.escape(run.configProblem ?? "config.json is missing"))</div>"
        }
        html += "<div class=\"table-wrap\" style=\"max-height:none;display:inline-block\"><table><thead><tr><th>setting</th><th>value</th></tr></thead><tbody>"
        for (key, value) in config.flattened() {
            let text = value.displayText
            let shown = text.count > 200 ? String(text.prefix(200)) + "… (\(text.count) characters)" : text
            html += "<tr><td><code>\(Markup.escape(key))</code></td><td>\(Markup.escape(shown))</td></tr>"
        }
        return html + "</tbody></table></div>"
    }

    func timingsSection() -> String {
        var html = "<h2 id=\"timings\">Timings</h2>"
        var rows: [(String, String)] = []
        if let m = run.metrics, m.has("time"), m.rowCount > 0 {
            let train = m.rows(phase: "train")
            rows.append(("run time so far (last metrics row)", DurationFormat.words(m.value("time", row: m.rowCount - 1))))
            if let first = train.first, let last = train.last, last != first, m.has("step") {
                let dt = m.value("time", row: last) - m.value("time", row: first)
                let ds = m.value("step", row: last) - m.value("step", row: first)
                if ds > 0 {
                    rows.append(("mean time per training step", DurationFormat.words(dt / ds)))
                    rows.append(("training steps per second", NumberFormat.compact(ds / dt, significant: 3)))
                }
            }
            var evaluationTime = 0.0, evaluations = 0
            for row in m.rows(phase: "test") where row > 0 {
                let dt = m.value("time", row: row) - m.value("time", row: row - 1)
                if dt.isFinite && dt >= 0 { evaluationTime += dt; evaluations += 1 }
            }
            if evaluations > 0 {
                rows.append(("evaluations (time from the preceding row)", "\(evaluations), \(DurationFormat.words(evaluationTime)) in all, \(DurationFormat.words(evaluationTime / Double(evaluations))) each"))
            }
        } else {
            html += "<div class=\"missing\">\(Markup.escape(run.metricsProblem ?? "metrics.csv has no time column"))</div>"
        }
        for (name, seconds) in run.stageTimings { rows.append(("pipeline stage \(name)", DurationFormat.words(seconds))) }
        if let problem = run.timingsProblem { html += "<div class=\"missing\">\(Markup.escape(problem))</div>" }
        if !rows.isEmpty {
            html += "<table><tbody>"
            for (k, v) in rows { html += "<tr><td>\(Markup.escape(k))</td><td class=\"num\">\(Markup.escape(v))</td></tr>" }
            html += "</tbody></table>"
        }
        return html
    }

    func plotsSection() -> String {
        var html = "<h2 id=\"plots\">Plots</h2>"
        if let problem = run.metricsProblem { html += "<div class=\"missing\">\(Markup.escape(problem)); the training curves below are empty</div>" }
        let charts: [String] = [
            RunCharts.losses(run).svg(), RunCharts.kld(run).svg(), RunCharts.beta(run).svg(),
            RunCharts.pixelError(run).svg(), RunCharts.featureMatching(run).svg(), RunCharts.psnr(run).svg(),
            RunCharts.diversity(run).svg(), RunCharts.frechet(run).svg(), RunCharts.latentDistance(run).svg(),
            latestHistogram(), RunCharts.latentStatistics(run).svg(), RunCharts.stepTime(run).svg(),
        ]
        html += "<div class=\"charts\">" + charts.map { "<div>\($0)</div>" }.joined() + "</div>"
        return html
    }

    func latestHistogram() -> String {
        if let e = run.evaluations.last { return RunCharts.distanceHistogram(e).svg() }
        return HistogramChart(title: "Distance of encoded samples from the origin", xLabel: "|z|", edges: [], counts: []).svg()
    }

    /// Run-relative image paths for a step: from its evaluation file, else the conventional names.
    func imagePaths(step: Int) -> [(kind: String, title: String, path: String)] {
        let evaluation = run.evaluations.first { $0.step == step }
        let fakes = evaluation?.fakesImage ?? run.sampleImages["fakes"]?[step] ?? RunLayout.samplePath("fakes", step: step)
        let recon = evaluation?.reconstructionsImage ?? run.sampleImages["recon"]?[step] ?? RunLayout.samplePath("recon", step: step)
        var result = [("fakes", "Fakes from the fixed latents", fakes), ("recon", "Test originals beside their reconstructions", recon)]
        for kind in run.sampleImages.keys.sorted() where kind != "fakes" && kind != "recon" {
            if let path = run.sampleImages[kind]?[step] { result.append((kind, kind, path)) }
        }
        return result
    }

    func samplesSection(_ imager: ReportImages) -> String {
        var html = "<h2 id=\"samples\">Samples at every evaluation step</h2>"
        let steps = run.evaluationSteps
        guard !steps.isEmpty else {
            return html + "<div class=\"missing\">no evaluation yet: no <code>evaluations/step-*.json</code> and no <code>samples/*-step-*.png</code></div>"
        }
        let latents = run.config?["fixed_latents"]?.int.map { "\($0) " } ?? ""
        let seed = run.config?["fixed_latent_seed"]?.int.map { " (seed \($0))" } ?? ""
        html += "<p class=\"muted\">The same \(latents)latent vectors\(seed) decoded at each evaluation, so their evolution shows across the run. Use the slider, the buttons or the arrow keys.</p>"
        html += "<div class=\"stepper\" tabindex=\"0\"><div class=\"controls\"><button class=\"prev\" type=\"button\">&larr; prev</button><button class=\"next\" type=\"button\">next &rarr;</button><button class=\"play\" type=\"button\">play</button>"
        html += "<input type=\"range\" min=\"0\" max=\"\(steps.count - 1)\" value=\"\(steps.count - 1)\" aria-label=\"evaluation step\"><span class=\"step-label\">step \(steps.last!)</span></div>"
        for (index, step) in steps.enumerated() {
            html += "<div class=\"step-frame\" data-step=\"\(step)\"\(index == steps.count - 1 ? "" : " hidden")>"
            let evaluation = run.evaluations.first { $0.step == step }
            if let e = evaluation {
                html += "<p>" + figures(e).map { "<span class=\"figure\">\(Markup.escape($0))</span>" }.joined(separator: " &middot; ") + "</p>"
            } else {
                html += "<div class=\"missing\">no evaluation file for step \(step) (<code>\(RunLayout.evaluationsName)/\(RunLayout.evaluationFileName(step: step))</code>)</div>"
            }
            html += "<div class=\"pair\">"
            for (_, title, path) in imagePaths(step: step) {
                html += "<div><h3>\(Markup.escape(title))</h3>" + imager.image(run.file(path), displayPath: path, alt: "\(title), step \(step)") + "</div>"
            }
            html += "</div>"
            if let e = evaluation {
                html += "<div class=\"chart-box\" style=\"max-width:620px\">" + RunCharts.distanceHistogram(e).svg() + "</div>"
            }
            html += "</div>"
        }
        return html + "</div>"
    }

    func figures(_ e: EvaluationRecord) -> [String] {
        var out: [String] = []
        out.append("pixel MSE \(NumberFormat.compact(e.pixelMSE))")
        out.append("PSNR \(NumberFormat.compact(e.psnr)) dB")
        out.append("feature error \(NumberFormat.compact(e.feats))")
        for key in e.kld.keys.sorted() { out.append("KLD \(key) \(NumberFormat.compact(e.kld[key]!))") }
        out.append("beta \(NumberFormat.compact(e.beta))")
        out.append("diversity ratio \(NumberFormat.compact(e.diversity.ratio))")
        out.append("pairwise fake \(NumberFormat.compact(e.diversity.fakePairwise)) / real \(NumberFormat.compact(e.diversity.realPairwise))")
        out.append("collapsed \(NumberFormat.compact(e.collapsedFraction))")
        return out
    }

    func filesSection(outputDirectory: URL) -> String {
        var html = "<h2 id=\"files\">Checkpoints and video</h2>"
        func link(_ path: String) -> String {
            let rel = ReportImages.relativePath(from: outputDirectory, to: run.file(path))
            let href = rel.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")
            return "<a href=\"\(Markup.escape(href))\">\(Markup.escape(path))</a>"
        }
        if run.checkpoints.isEmpty {
            html += "<div class=\"missing\">no checkpoints: <code>checkpoints/</code> is missing or empty</div>"
        } else {
            html += "<table><thead><tr><th>checkpoint</th><th>state</th><th>files</th></tr></thead><tbody>"
            for c in run.checkpoints {
                let state = c.state.map(RunReport.checkpointState) ?? "no readable state.json"
                let files = c.files.isEmpty ? "<span class=\"missing\">empty folder</span>"
                    : c.files.map { "\(link($0.path)) <span class=\"muted\">\(NumberFormat.bytes($0.bytes))</span>" }.joined(separator: "<br>")
                html += "<tr><td><code>\(Markup.escape(c.name))</code></td><td>\(Markup.escape(state))</td><td>\(files)</td></tr>"
            }
            html += "</tbody></table>"
        }
        html += "<h3>Reconstruction video</h3>"
        // (shown path, file): the run's videos by run-relative path, the others by file name.
        let allVideos = run.videos.map { ($0, run.file($0)) } + videos.map { ($0.lastPathComponent, $0) }
        if allVideos.isEmpty {
            html += "<div class=\"missing\">no video yet: no <code>.mp4</code> in the run (made by <code>inkwell reconstruct</code> or the export stage)</div>"
        }
        for (shown, file) in allVideos {
            guard FileManager.default.fileExists(atPath: file.path) else {
                html += "<div class=\"missing\">missing: <code>\(Markup.escape(file.path))</code> (file not found)</div>"
                continue
            }
            let href = ReportImages.relativePath(from: outputDirectory, to: file)
                .split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")
            html += "<p><a href=\"\(Markup.escape(href))\">\(Markup.escape(shown))</a></p>"
                + "<video controls preload=\"none\" width=\"720\" style=\"max-width:100%;height:auto\" src=\"\(Markup.escape(href))\"></video>"
        }
        return html
    }

    /// "" for 1, "2nd ", "3rd ", "4th ", "21st ", ... (with a trailing space).
    static func ordinal(_ n: Int) -> String {
        if n == 1 { return "" }
        let suffix: String
        switch (n % 10, n % 100) {
        case (_, 11...13): suffix = "th"
        case (1, _): suffix = "st"
        case (2, _): suffix = "nd"
        case (3, _): suffix = "rd"
        default: suffix = "th"
        }
        return "\(n)\(suffix) "
    }

    /// The figures of a checkpoint's state.json worth showing: step, epoch, test pixel error,
    /// run time, beta (whichever are present), else its first scalar fields.
    static func checkpointState(_ state: JSONValue) -> String {
        guard let members = state.object else { return "state.json is not a JSON object" }
        var parts: [String] = []
        if let v = members["step"]?.double { parts.append("step \(NumberFormat.compact(v))") }
        if let v = members["epoch"]?.double { parts.append("epoch \(NumberFormat.compact(v))") }
        if let v = members["test_pixel"]?.double { parts.append("test pixel MSE \(NumberFormat.compact(v))") }
        if let v = members["elapsed"]?.double { parts.append("run time \(DurationFormat.words(v))") }
        if let v = members["beta_value"]?.double { parts.append("beta \(NumberFormat.compact(v))") }
        if parts.isEmpty {
            parts = members.keys.sorted().filter { members[$0]!.double != nil || members[$0]!.string != nil }.prefix(6)
                .map { "\($0) \(members[$0]!.displayText)" }
        }
        return parts.joined(separator: ", ")
    }

    func metricsSection() -> String {
        var html = "<h2 id=\"metrics\">Metrics</h2>"
        guard let m = run.metrics, m.rowCount > 0 else {
            return html + "<div class=\"missing\">\(Markup.escape(run.metricsProblem ?? "metrics.csv has no rows"))</div>"
        }
        let train = m.rows(phase: "train")
        let every = max(1, Int((Double(train.count) / Double(max(1, maxTableRows))).rounded(.up)))
        var chosen = Set(train.enumerated().filter { $0.offset % every == 0 }.map(\.element))
        chosen.formUnion(m.rows(phase: nil).filter { m.phases[$0] != "train" })
        chosen.insert(m.rowCount - 1)
        if let last = train.last { chosen.insert(last) }
        html += "<p class=\"muted\">\(m.rowCount) rows in <code>metrics.csv</code>; shown: every \(RunReport.ordinal(every))training row, every test row (shaded) and the last row.</p>"
        for p in m.problems { html += "<div class=\"missing\">\(Markup.escape(p))</div>" }
        html += "<div class=\"table-wrap\"><table><thead><tr>"
        for name in m.header { html += "<th class=\"\(name == "phase" ? "" : "num")\">\(Markup.escape(name))</th>" }
        html += "</tr></thead><tbody>"
        for row in chosen.sorted() {
            html += "<tr\(m.phases[row] == "test" ? " class=\"test\"" : "")>"
            for name in m.header {
                if name == "phase" {
                    html += "<td>\(Markup.escape(m.phases[row]))</td>"
                } else {
                    let v = m.value(name, row: row)
                    html += "<td class=\"num\">\(v.isNaN ? "" : NumberFormat.compact(v))</td>"
                }
            }
            html += "</tr>"
        }
        return html + "</tbody></table></div>"
    }
}

extension RunReport {
    /// In words: whether the model's test PSNR beats the mean-frame and PCA baselines at this
    /// evaluation, and how its fakes' Fréchet distance compares with the real-frame floor.
    static func baselineVerdict(_ e: EvaluationRecord) -> String? {
        guard let baselines = e.baselines else { return nil }
        let (psnr, meanFrame, pca) = (e.psnr, baselines.meanFrame.psnr, baselines.pca.psnr)
        func against(_ name: String, _ value: Double) -> String {
            let margin = psnr - value
            return String(format: "%@ the %@ (%.2f dB) by %.2f dB", margin > 0 ? "beats" : "does not beat", name, value, abs(margin))
        }
        let pcaName = "\(baselines.pcaComponents)-component PCA"
        var text = String(format: "At step %d the model's test PSNR, %.2f dB, ", e.step, psnr)
            + against("training split's mean frame", meanFrame) + " and " + against(pcaName, pca) + "."
        if let (fd, floor) = e.frechet.map({ ($0.fakes, $0.floor) }) {
            text += String(format: " Its fakes are at Fréchet distance %.4g from real test frames, %.1f times the %.4g that real frames score against each other.",
                           fd, floor > 0 ? fd / floor : .infinity, floor)
        }
        return text
    }
}

