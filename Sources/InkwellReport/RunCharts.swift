import Foundation
import InkwellTraining

/// The standard charts of a run, built from its metrics table and evaluations. Each function
/// returns a chart that draws something sensible for missing data ("no data" with the reason).
public enum RunCharts {
    /// Training curves with one row per step are thinned to this many points (bucket means).
    public static let maxCurvePoints = 400

    static let lossColumns = ["gen_recon", "gen_fake", "disc_real", "disc_recon", "disc_fake"]

    static func missingNote(_ run: RunDirectory, columns: [String]) -> String? {
        if let problem = run.metricsProblem { return problem }
        guard let metrics = run.metrics else { return nil }
        let absent = columns.filter { !metrics.has($0) }
        return absent.isEmpty ? nil : "metrics.csv has no column \(absent.joined(separator: ", "))"
    }

    static func train(_ run: RunDirectory, _ column: String) -> [PlotPoint]? {
        run.metrics?.series(column, phase: "train")
    }

    static func test(_ run: RunDirectory, _ column: String) -> [PlotPoint]? {
        run.metrics?.series(column, phase: "test")
    }

    /// The five adversarial losses of the training rows, log scale.
    public static func losses(_ run: RunDirectory) -> LineChart {
        let series = lossColumns.compactMap { column in
            train(run, column).map { PlotSeries(label: column, points: $0).thinned(maxPoints: maxCurvePoints) }
        }
        return LineChart(title: "Generator and discriminator losses (train)", yLabel: "BCE", series: series,
                         yScale: .log, emptyNote: missingNote(run, columns: lossColumns))
    }

    /// Feature-matching error, train curve and test points.
    public static func featureMatching(_ run: RunDirectory) -> LineChart {
        var series: [PlotSeries] = []
        if let p = train(run, "feats") { series.append(PlotSeries(label: "train", points: p).thinned(maxPoints: maxCurvePoints)) }
        let testPoints = test(run, "feats") ?? run.evaluations.map { PlotPoint(x: Double($0.step), y: $0.feats) }
        if !testPoints.isEmpty { series.append(PlotSeries(label: "test", points: testPoints, markers: true)) }
        return LineChart(title: "Feature-matching error", yLabel: "MSE of D features", series: series, yScale: .log,
                         emptyNote: missingNote(run, columns: ["feats"]))
    }

    /// Beta over steps, log scale (the dual-gradient rule moves it over decades).
    public static func beta(_ run: RunDirectory) -> LineChart {
        let series = train(run, "beta").map { [PlotSeries(label: "beta", points: $0).thinned(maxPoints: maxCurvePoints)] } ?? []
        return LineChart(title: "Beta" + (run.betaName.map { " (\($0))" } ?? ""), yLabel: "beta", series: series,
                         yScale: .log, emptyNote: missingNote(run, columns: ["beta"]))
    }

    /// KLD of the training rows and test points against the KLD target (dashed), log scale.
    public static func kld(_ run: RunDirectory) -> LineChart {
        var series: [PlotSeries] = []
        let trainPoints = train(run, "kld")
        if let p = trainPoints { series.append(PlotSeries(label: "KLD (train)", points: p).thinned(maxPoints: maxCurvePoints)) }
        if let p = test(run, "kld"), !p.isEmpty { series.append(PlotSeries(label: "KLD (test)", points: p, markers: true)) }
        if let target = run.kldTarget, let line = horizontalLine(at: target, over: series) {
            series.append(PlotSeries(label: "target \(NumberFormat.compact(target))", points: line, color: "#222", dashed: true))
        }
        return LineChart(title: "KLD against its target" + (run.kldName.map { " (\($0))" } ?? ""), yLabel: "KLD",
                         series: series, yScale: .log, emptyNote: missingNote(run, columns: ["kld"]))
    }

    /// Pixel MSE of training rows against test evaluations, log scale.
    public static func pixelError(_ run: RunDirectory) -> LineChart {
        var series: [PlotSeries] = []
        if let p = train(run, "pixel") { series.append(PlotSeries(label: "train", points: p).thinned(maxPoints: maxCurvePoints)) }
        var testPoints = test(run, "pixel") ?? []
        if testPoints.isEmpty { testPoints = run.evaluations.map { PlotPoint(x: Double($0.step), y: $0.pixelMSE) } }
        if !testPoints.isEmpty { series.append(PlotSeries(label: "test", points: testPoints, markers: true)) }
        return LineChart(title: "Pixel error, train and test", yLabel: "pixel MSE", series: series, yScale: .log,
                         emptyNote: missingNote(run, columns: ["pixel"]))
    }

    /// Test PSNR over steps, with the baselines' PSNR on the same frames as dashed reference
    /// lines (the training split's mean frame and PCA).
    public static func psnr(_ run: RunDirectory) -> LineChart {
        let points = evaluationPoints(run, column: "psnr") { $0.psnr }
        var series = points.isEmpty ? [] : [PlotSeries(label: "model", points: points, markers: true)]
        let components = run.evaluations.last?.baselines.map { "PCA-\($0.pcaComponents)" } ?? "PCA"
        for (label, column, value, color) in [("mean frame", "psnr_mean_frame", { (e: EvaluationRecord) in e.baselines?.meanFrame.psnr }, 2),
                                              (components, "psnr_pca", { (e: EvaluationRecord) in e.baselines?.pca.psnr }, 3)] {
            let reference = evaluationPoints(run, column: column, value)
            if !reference.isEmpty { series.append(PlotSeries(label: label, points: reference, color: ChartPalette.color(color), dashed: true)) }
        }
        return LineChart(title: "Test PSNR against baselines", yLabel: "dB", series: series,
                         emptyNote: points.isEmpty ? "no evaluation yet" : nil)
    }

    /// The Fréchet distance of fakes to real test frames (PCA space) over steps, beside its floor
    /// (two halves of the real frames), log scale.
    public static func frechet(_ run: RunDirectory) -> LineChart {
        let fakes = evaluationPoints(run, column: "fd") { $0.frechet?.fakes }
        let floor = evaluationPoints(run, column: "fd_floor") { $0.frechet?.floor }
        var series: [PlotSeries] = []
        if !fakes.isEmpty { series.append(PlotSeries(label: "fakes vs test frames", points: fakes, markers: true)) }
        if !floor.isEmpty { series.append(PlotSeries(label: "floor: real vs real", points: floor, color: ChartPalette.color(2), dashed: true)) }
        return LineChart(title: "Fréchet distance of fakes (PCA space)", yLabel: "distance per pixel value", series: series,
                         yScale: .log, emptyNote: series.isEmpty ? "no evaluation with baselines yet" : nil)
    }

    /// A test value per evaluation: from the evaluation files, else from metrics.csv's test rows.
    static func evaluationPoints(_ run: RunDirectory, column: String, _ value: (EvaluationRecord) -> Double?) -> [PlotPoint] {
        let fromFiles = run.evaluations.compactMap { e in value(e).map { PlotPoint(x: Double(e.step), y: $0) } }
        return fromFiles.isEmpty ? (test(run, column) ?? []).filter { $0.y.isFinite } : fromFiles
    }

    /// Diversity of the fixed-latent fakes (relative to real test frames) and the fraction of
    /// collapsed fakes, over steps: mode collapse as numbers.
    public static func diversity(_ run: RunDirectory) -> LineChart {
        let (diversity, collapsed) = diversityPoints(run)
        var series: [PlotSeries] = []
        if !diversity.isEmpty { series.append(PlotSeries(label: "fake diversity / real diversity", points: diversity, markers: true)) }
        if !collapsed.isEmpty { series.append(PlotSeries(label: "collapsed fraction of fakes", points: collapsed, color: ChartPalette.color(2), markers: true)) }
        return LineChart(title: "Fake diversity and collapse", yLabel: "ratio / fraction", series: series,
                         yMustInclude: [0, 1], emptyNote: series.isEmpty ? "no evaluation yet" : nil)
    }

    /// (diversity ratio, collapsed fraction) points: from the evaluation files, else from the
    /// test rows of metrics.csv.
    static func diversityPoints(_ run: RunDirectory) -> ([PlotPoint], [PlotPoint]) {
        var diversity = run.evaluations.map { e in PlotPoint(x: Double(e.step), y: e.diversity.ratio) }
        var collapsed = run.evaluations.map { e in PlotPoint(x: Double(e.step), y: e.collapsedFraction) }
        if diversity.isEmpty { diversity = test(run, "diversity") ?? [] }
        if collapsed.isEmpty { collapsed = test(run, "collapsed") ?? [] }
        return (diversity, collapsed)
    }

    /// Latent sample statistics of the training rows: z min, mean, max and the mean of z's std.
    public static func latentStatistics(_ run: RunDirectory) -> LineChart {
        let columns = ["z_min", "z_mean", "z_max", "z_std_mean"]
        let series = columns.compactMap { c in train(run, c).map { PlotSeries(label: c, points: $0).thinned(maxPoints: maxCurvePoints) } }
        return LineChart(title: "Latent samples z (train)", yLabel: "value", series: series,
                         emptyNote: missingNote(run, columns: columns))
    }

    /// Mean distance of encoded test samples from the origin (from each evaluation's histogram)
    /// against the mean of the chi distribution N(0, I) gives (dashed): drift into a ring or a
    /// far cluster shows as a gap between them.
    public static func latentDistance(_ run: RunDirectory) -> LineChart {
        var points: [PlotPoint] = []
        var dimension: Int?
        for e in run.evaluations {
            guard let mean = histogramMean(e.latent) else { continue }
            points.append(PlotPoint(x: Double(e.step), y: mean))
            dimension = e.latent.dim
        }
        var series: [PlotSeries] = []
        if !points.isEmpty { series.append(PlotSeries(label: "encoded test samples", points: points, markers: true)) }
        if let d = dimension, d > 0, let line = horizontalLine(at: chiMean(degreesOfFreedom: d), over: series) {
            series.append(PlotSeries(label: "N(0, I): mean of chi(\(d)) = \(NumberFormat.compact(chiMean(degreesOfFreedom: d)))",
                                     points: line, color: "#222", dashed: true))
        }
        return LineChart(title: "Distance of encoded samples from the origin", yLabel: "mean |z|", series: series,
                         yMustInclude: [0], emptyNote: series.isEmpty ? "no evaluation with a latent histogram yet" : nil)
    }

    /// Seconds per training step over the run (time difference of consecutive training rows;
    /// intervals holding an evaluation are left out).
    public static func stepTime(_ run: RunDirectory) -> LineChart {
        var points: [PlotPoint] = []
        if let m = run.metrics, m.has("time") {
            let rows = m.rows(phase: "train")
            // Consecutive training rows only: an evaluation between two rows is not a step's time.
            for (a, b) in zip(rows, rows.dropFirst()) where b == a + 1 {
                let dt = m.value("time", row: b) - m.value("time", row: a)
                let ds = m.has("step") ? m.value("step", row: b) - m.value("step", row: a) : 1
                guard ds > 0 else { continue }
                points.append(PlotPoint(x: m.has("step") ? m.value("step", row: b) : Double(b), y: dt / ds))
            }
        }
        let series = points.isEmpty ? [] : [PlotSeries(label: "seconds per step", points: points).thinned(maxPoints: maxCurvePoints)]
        return LineChart(title: "Training speed", yLabel: "seconds per step", series: series, yMustInclude: [0],
                         emptyNote: missingNote(run, columns: ["time"]) ?? (points.isEmpty ? "fewer than two training rows" : nil))
    }

    /// The distance histogram of one evaluation against the chi density.
    public static func distanceHistogram(_ evaluation: EvaluationRecord) -> HistogramChart {
        let latent = evaluation.latent
        return HistogramChart(title: "Distance of encoded samples from the origin, step \(evaluation.step)", xLabel: "|z|",
                              edges: latent.distanceHistogram.edges, counts: latent.distanceHistogram.counts.map(Double.init),
                              countsLabel: "encoded test samples", reference: latent.distanceChiDensity,
                              referenceLabel: "N(0, I): chi(\(latent.dim))")
    }

    /// A two-point horizontal line at `y` spanning the x range of `series` (nil when they have no
    /// finite x).
    static func horizontalLine(at y: Double, over series: [PlotSeries]) -> [PlotPoint]? {
        let xs = series.flatMap { $0.points.map(\.x) }.filter { $0.isFinite }
        guard let lo = xs.min(), let hi = xs.max(), y.isFinite else { return nil }
        return [PlotPoint(x: lo, y: y), PlotPoint(x: hi, y: y)]
    }

    /// The mean distance from the origin of an evaluation's latent histogram (bin centres).
    static func histogramMean(_ latent: EvaluationResult.Latent) -> Double? {
        histogramMean(edges: latent.distanceHistogram.edges, counts: latent.distanceHistogram.counts.map(Double.init))
    }

    /// The mean of a histogram using bin centres, or nil when it has no samples or is malformed.
    static func histogramMean(edges: [Double], counts: [Double]) -> Double? {
        guard !counts.isEmpty, edges.count == counts.count + 1 else { return nil }
        var total = 0.0, weighted = 0.0
        for (i, c) in counts.enumerated() where c.isFinite && c > 0 {
            total += c
            weighted += c * (edges[i] + edges[i + 1]) / 2
        }
        return total > 0 ? weighted / total : nil
    }

    /// The mean of the chi distribution with k degrees of freedom: sqrt(2) Γ((k+1)/2) / Γ(k/2).
    public static func chiMean(degreesOfFreedom k: Int) -> Double {
        let kd = Double(k)
        return sqrt(2) * exp(lgamma((kd + 1) / 2) - lgamma(kd / 2))
    }
}
