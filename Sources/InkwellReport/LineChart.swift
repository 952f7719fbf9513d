import Foundation

/// One (x, y) sample of a plotted series. Non-finite values break the line there.
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A named line of a chart.
public struct PlotSeries: Sendable {
    public var label: String
    public var points: [PlotPoint]
    /// CSS colour; nil takes the next colour of `ChartPalette`.
    public var color: String?
    /// Drawn dashed (targets, references).
    public var dashed: Bool
    /// Draws a dot at every point (sparse series such as test evaluations).
    public var markers: Bool

    public init(label: String, points: [PlotPoint], color: String? = nil, dashed: Bool = false, markers: Bool = false) {
        self.label = label
        self.points = points
        self.color = color
        self.dashed = dashed
        self.markers = markers
    }

    /// At most `maxPoints` points: when there are more, consecutive points are grouped into
    /// equal-count buckets and each bucket is replaced by the mean of its finite x and y values
    /// (a bucket with no finite y becomes a gap). Training curves with one row per step are
    /// thinned this way so the SVG stays small; the mean also smooths the noise.
    public func thinned(maxPoints: Int) -> PlotSeries {
        guard maxPoints > 0, points.count > maxPoints else { return self }
        var result: [PlotPoint] = []
        result.reserveCapacity(maxPoints)
        let n = points.count
        for b in 0..<maxPoints {
            let start = b * n / maxPoints
            let end = (b + 1) * n / maxPoints
            guard end > start else { continue }
            var sx = 0.0, sy = 0.0, count = 0
            for p in points[start..<end] where p.x.isFinite && p.y.isFinite {
                sx += p.x
                sy += p.y
                count += 1
            }
            if count == 0 {
                result.append(PlotPoint(x: points[(start + end - 1) / 2].x, y: .nan))
            } else {
                result.append(PlotPoint(x: sx / Double(count), y: sy / Double(count)))
            }
        }
        var copy = self
        copy.points = result
        return copy
    }
}

/// The colours series take in order (Tableau 10, readable on white).
public enum ChartPalette {
    public static let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]
    public static func color(_ index: Int) -> String { colors[index % colors.count] }
}

/// A line chart rendered as a standalone `<svg>` element: axes with ticks and labels, a title,
/// a legend below the plot, any number of series, linear or log y scale.
///
/// It never fails: non-finite points break lines, a series with one point is a dot, a chart with
/// no drawable point says "no data", and on a log scale the points <= 0 are left out and counted
/// in a note under the plot.
public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    public var yScale: AxisScale
    /// Values the y axis must include besides the data (e.g. 0 for a fraction).
    public var yMustInclude: [Double]
    /// Size in CSS pixels (the SVG scales with its container; this sets the aspect ratio).
    public var width: Double
    public var height: Double
    /// Shown when there is nothing to draw, after "no data".
    public var emptyNote: String?

    public init(title: String, xLabel: String = "step", yLabel: String = "", series: [PlotSeries],
                yScale: AxisScale = .linear, yMustInclude: [Double] = [], width: Double = 560, height: Double = 300,
                emptyNote: String? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yScale = yScale
        self.yMustInclude = yMustInclude
        self.width = width
        self.height = height
        self.emptyNote = emptyNote
    }

    /// The chart as an SVG element string.
    public func svg() -> String {
        let legend = LegendLayout(items: series.enumerated().map { index, s in
            LegendItem(label: s.label, color: s.color ?? ChartPalette.color(index), dashed: s.dashed, marker: s.markers)
        }, width: width - 24)
        var hiddenByLog = 0
        var xs: [Double] = []
        var ys: [Double] = []
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite {
                if yScale == .log && p.y <= 0 {
                    hiddenByLog += 1
                    continue
                }
                xs.append(p.x)
                ys.append(p.y)
            }
        }
        let noteLines = hiddenByLog > 0 ? 1 : 0
        let left = 62.0, right = 18.0, top = 30.0
        let bottom = 40.0 + legend.height + Double(noteLines) * 14
        let frame = PlotFrame(x0: left, y0: top, x1: width - right, y1: height - bottom)
        var svg = SVGBuilder(width: width, height: height, title: title)
        svg.text(title, x: width / 2, y: 18, anchor: "middle", cssClass: "chart-title")

        guard !xs.isEmpty else {
            svg.rect(x: frame.x0, y: frame.y0, width: frame.width, height: frame.height, cssClass: "plot-area")
            svg.text("no data", x: frame.midX, y: frame.midY, anchor: "middle", cssClass: "no-data")
            if let note = emptyNote {
                svg.text(note, x: frame.midX, y: frame.midY + 16, anchor: "middle", cssClass: "chart-note")
            }
            legend.draw(into: &svg, x: 12, y: height - legend.height - 2)
            return svg.finish()
        }

        let yValues = ys + yMustInclude.filter { yScale == .linear || $0 > 0 }
        let xAxis = ChartAxis(covering: xs, scale: .linear, niceBounds: false,
                              integerTicks: xs.allSatisfy { $0 == $0.rounded() })
        let yAxis = ChartAxis(covering: yValues, scale: yScale, niceBounds: true)
        func px(_ x: Double) -> Double { frame.x0 + xAxis.fraction(x) * frame.width }
        func py(_ y: Double) -> Double { frame.y1 - yAxis.fraction(y) * frame.height }

        svg.rect(x: frame.x0, y: frame.y0, width: frame.width, height: frame.height, cssClass: "plot-area")
        svg.ticks(x: xAxis, y: yAxis, in: frame)
        svg.line(x1: frame.x0, y1: frame.y1, x2: frame.x1, y2: frame.y1, cssClass: "axis")
        svg.line(x1: frame.x0, y1: frame.y0, x2: frame.x0, y2: frame.y1, cssClass: "axis")
        svg.text(xLabel, x: frame.midX, y: frame.y1 + 31, anchor: "middle", cssClass: "axis-label")
        if !yLabel.isEmpty {
            svg.text(yLabel + (yScale == .log ? " (log)" : ""), x: 13, y: frame.midY, anchor: "middle",
                     cssClass: "axis-label", rotate: -90)
        } else if yScale == .log {
            svg.text("log scale", x: 13, y: frame.midY, anchor: "middle", cssClass: "axis-label", rotate: -90)
        }

        for (index, s) in series.enumerated() {
            let color = s.color ?? ChartPalette.color(index)
            var segments: [[(Double, Double)]] = [[]]
            for p in s.points {
                if p.x.isFinite && p.y.isFinite && xAxis.canShow(p.x) && yAxis.canShow(p.y) {
                    segments[segments.count - 1].append((px(p.x), py(p.y)))
                } else if !segments[segments.count - 1].isEmpty {
                    segments.append([])
                }
            }
            for segment in segments where !segment.isEmpty {
                if segment.count == 1 {
                    svg.circle(cx: segment[0].0, cy: segment[0].1, r: 2.8, fill: color)
                } else {
                    svg.polyline(segment, stroke: color, dashed: s.dashed)
                }
                if s.markers && segment.count > 1 {
                    for point in segment { svg.circle(cx: point.0, cy: point.1, r: 2.4, fill: color) }
                }
            }
        }
        if hiddenByLog > 0 {
            svg.text("\(hiddenByLog) value\(hiddenByLog == 1 ? "" : "s") <= 0 not shown on the log scale",
                     x: frame.x0, y: frame.y1 + 46, anchor: "start", cssClass: "chart-note")
        }
        legend.draw(into: &svg, x: 12, y: height - legend.height - 2)
        return svg.finish()
    }
}

/// The rectangle data is drawn in.
struct PlotFrame {
    var x0: Double, y0: Double, x1: Double, y1: Double
    var width: Double { x1 - x0 }
    var height: Double { y1 - y0 }
    var midX: Double { (x0 + x1) / 2 }
    var midY: Double { (y0 + y1) / 2 }
}

struct LegendItem {
    var label: String
    var color: String
    var dashed: Bool
    var marker: Bool
    var filledBox: Bool = false
}

/// Legend items laid out left to right, wrapping into rows of `width`.
struct LegendLayout {
    static let rowHeight = 16.0
    var items: [LegendItem]
    var positions: [(Double, Int)] = []  // x offset, row
    var rows = 0

    init(items: [LegendItem], width: Double) {
        self.items = items
        var x = 0.0
        var row = 0
        for item in items {
            let w = LegendLayout.itemWidth(item)
            if x > 0 && x + w > width {
                row += 1
                x = 0
            }
            positions.append((x, row))
            x += w
        }
        rows = items.isEmpty ? 0 : row + 1
    }

    var height: Double { Double(rows) * LegendLayout.rowHeight }

    static func itemWidth(_ item: LegendItem) -> Double {
        30 + Double(item.label.count) * 6.1 + 14
    }

    func draw(into svg: inout SVGBuilder, x: Double, y: Double) {
        for (item, position) in zip(items, positions) {
            let ix = x + position.0
            let iy = y + Double(position.1) * LegendLayout.rowHeight + 8
            if item.filledBox {
                svg.rect(x: ix + 4, y: iy - 5, width: 18, height: 10, fill: item.color, opacity: 0.55)
            } else {
                svg.polyline([(ix, iy), (ix + 24, iy)], stroke: item.color, dashed: item.dashed)
                if item.marker { svg.circle(cx: ix + 12, cy: iy, r: 2.6, fill: item.color) }
            }
            svg.text(item.label, x: ix + 30, y: iy + 4, anchor: "start", cssClass: "legend")
        }
    }
}
