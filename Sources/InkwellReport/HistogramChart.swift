import Foundation

/// A histogram over given bin edges drawn as bars of each bin's fraction of the total count,
/// optionally beside a reference distribution given as the expected fraction per bin (drawn as a
/// dashed line through the bin centres with dots). Used for the distances of encoded samples from
/// the origin against the chi distribution with D degrees of freedom that N(0, I) would give.
///
/// Malformed input (edges not one longer than counts, no counts) is said in the chart instead of
/// drawing.
public struct HistogramChart: Sendable {
    public var title: String
    public var xLabel: String
    /// n + 1 increasing bin edges.
    public var edges: [Double]
    /// n counts.
    public var counts: [Double]
    public var countsLabel: String
    /// n expected fractions per bin, or nil.
    public var reference: [Double]?
    public var referenceLabel: String
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String, edges: [Double], counts: [Double], countsLabel: String = "samples",
                reference: [Double]? = nil, referenceLabel: String = "reference",
                width: Double = 560, height: Double = 300) {
        self.title = title
        self.xLabel = xLabel
        self.edges = edges
        self.counts = counts
        self.countsLabel = countsLabel
        self.reference = reference
        self.referenceLabel = referenceLabel
        self.width = width
        self.height = height
    }

    /// Why the histogram cannot be drawn, or nil when it can.
    public var problem: String? {
        if counts.isEmpty { return "no histogram bins" }
        if edges.count != counts.count + 1 {
            return "malformed histogram: \(counts.count) counts need \(counts.count + 1) edges, found \(edges.count)"
        }
        if !edges.allSatisfy({ $0.isFinite }) { return "malformed histogram: non-finite bin edge" }
        for i in 1..<edges.count where edges[i] <= edges[i - 1] {
            return "malformed histogram: bin edges not increasing at index \(i)"
        }
        if let r = reference, r.count != counts.count {
            return "malformed histogram: \(counts.count) bins but \(r.count) reference values"
        }
        let total = counts.filter { $0.isFinite && $0 > 0 }.reduce(0, +)
        if total <= 0 { return "no samples in the histogram" }
        return nil
    }

    public func svg() -> String {
        var items = [LegendItem(label: countsLabel, color: ChartPalette.color(0), dashed: false, marker: false, filledBox: true)]
        if reference != nil {
            items.append(LegendItem(label: referenceLabel, color: ChartPalette.color(2), dashed: true, marker: true))
        }
        let legend = LegendLayout(items: items, width: width - 24)
        let left = 62.0, right = 18.0, top = 30.0
        let bottom = 40.0 + legend.height
        let frame = PlotFrame(x0: left, y0: top, x1: width - right, y1: height - bottom)
        var svg = SVGBuilder(width: width, height: height, title: title)
        svg.text(title, x: width / 2, y: 18, anchor: "middle", cssClass: "chart-title")
        svg.rect(x: frame.x0, y: frame.y0, width: frame.width, height: frame.height, cssClass: "plot-area")
        if let problem = problem {
            svg.text(problem, x: frame.midX, y: frame.midY, anchor: "middle", cssClass: "no-data")
            legend.draw(into: &svg, x: 12, y: height - legend.height - 2)
            return svg.finish()
        }
        let total = counts.filter { $0.isFinite && $0 > 0 }.reduce(0, +)
        let fractions = counts.map { $0.isFinite && $0 > 0 ? $0 / total : 0 }
        let referenceValues = (reference ?? []).filter { $0.isFinite }
        let xAxis = ChartAxis(covering: [edges.first!, edges.last!], scale: .linear, niceBounds: false)
        let yAxis = ChartAxis(covering: [0] + fractions + referenceValues, scale: .linear, niceBounds: true)
        func px(_ x: Double) -> Double { frame.x0 + xAxis.fraction(x) * frame.width }
        func py(_ y: Double) -> Double { frame.y1 - yAxis.fraction(y) * frame.height }
        svg.ticks(x: xAxis, y: yAxis, in: frame)
        for (i, fraction) in fractions.enumerated() where fraction > 0 {
            let x0 = px(edges[i]), x1 = px(edges[i + 1])
            svg.rect(x: x0 + 0.5, y: py(fraction), width: x1 - x0 - 1, height: frame.y1 - py(fraction), cssClass: "bar",
                     fill: ChartPalette.color(0), opacity: 0.55)
        }
        if let reference = reference {
            var segment: [(Double, Double)] = []
            func flush() {
                if segment.count > 1 { svg.polyline(segment, stroke: ChartPalette.color(2), dashed: true) }
                segment = []
            }
            for (i, value) in reference.enumerated() {
                guard value.isFinite else { flush(); continue }
                let point = (px((edges[i] + edges[i + 1]) / 2), py(value))
                segment.append(point)
                svg.circle(cx: point.0, cy: point.1, r: 2.2, fill: ChartPalette.color(2))
            }
            flush()
        }
        svg.line(x1: frame.x0, y1: frame.y1, x2: frame.x1, y2: frame.y1, cssClass: "axis")
        svg.line(x1: frame.x0, y1: frame.y0, x2: frame.x0, y2: frame.y1, cssClass: "axis")
        svg.text(xLabel, x: frame.midX, y: frame.y1 + 31, anchor: "middle", cssClass: "axis-label")
        svg.text("fraction of samples", x: 13, y: frame.midY, anchor: "middle", cssClass: "axis-label", rotate: -90)
        legend.draw(into: &svg, x: 12, y: height - legend.height - 2)
        return svg.finish()
    }
}
