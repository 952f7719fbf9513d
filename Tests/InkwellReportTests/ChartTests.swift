import InkwellReport
import XCTest

final class ChartTests: XCTestCase {
    /// The numbers written as tick labels (the `tick` class texts), in order.
    func tickLabels(_ svg: String) -> [String] {
        svg.components(separatedBy: "<text class=\"tick\"").dropFirst().compactMap { part in
            guard let start = part.firstIndex(of: ">"), let end = part.range(of: "</text>") else { return nil }
            return String(part[part.index(after: start)..<end.lowerBound])
        }
    }

    func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    func testLinearChartHasAxesTicksTitleAndLegend() {
        let chart = LineChart(title: "Pixel <error>", yLabel: "MSE", series: [
            PlotSeries(label: "train", points: (0...10).map { PlotPoint(x: Double($0 * 100), y: Double($0) / 10) }),
            PlotSeries(label: "test", points: [PlotPoint(x: 500, y: 0.5), PlotPoint(x: 1000, y: 0.9)], markers: true),
        ])
        let svg = chart.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("Pixel &lt;error&gt;"), "title escaped")
        XCTAssertEqual(count("<polyline", in: svg), 2 + 2, "two data lines and two legend swatches")
        XCTAssertTrue(svg.contains(">train</text>") && svg.contains(">test</text>"))
        let labels = tickLabels(svg)
        XCTAssertTrue(labels.contains("0.0") || labels.contains("0"), "y ticks include 0: \(labels)")
        XCTAssertTrue(labels.contains("1.0") || labels.contains("1"), "y ticks include 1: \(labels)")
        XCTAssertTrue(labels.contains("1000"), "x ticks include 1000: \(labels)")
        XCTAssertFalse(svg.contains("nan") || svg.contains("NaN") || svg.contains("inf"))
    }

    func testNaNBreaksTheLineAndIsNeverWrittenAsCoordinate() {
        let points = [1.0, 2.0, .nan, 4.0, 5.0, .infinity, 7.0].enumerated().map { PlotPoint(x: Double($0.offset), y: $0.element) }
        let svg = LineChart(title: "gaps", series: [PlotSeries(label: "s", points: points)]).svg()
        // Segments [1, 2], [4, 5] are lines; [7] alone is a dot. Plus one legend swatch.
        XCTAssertEqual(count("<polyline", in: svg), 3)
        XCTAssertEqual(count("<circle", in: svg), 1)
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertFalse(svg.contains("inf"))
    }

    func testEmptyAndSinglePointCharts() {
        let empty = LineChart(title: "nothing", series: [PlotSeries(label: "s", points: [])], emptyNote: "metrics.csv is missing").svg()
        XCTAssertTrue(empty.contains(">no data</text>"))
        XCTAssertTrue(empty.contains("metrics.csv is missing"))
        let allNaN = LineChart(title: "nan", series: [PlotSeries(label: "s", points: [PlotPoint(x: 1, y: .nan)])]).svg()
        XCTAssertTrue(allNaN.contains(">no data</text>"))
        let none = LineChart(title: "none", series: []).svg()
        XCTAssertTrue(none.contains(">no data</text>"))

        let one = LineChart(title: "one", series: [PlotSeries(label: "s", points: [PlotPoint(x: 100, y: 0.25)])]).svg()
        XCTAssertEqual(count("<circle", in: one), 1, "a single point is drawn as a dot")
        XCTAssertFalse(one.contains("no data"))
        let labels = tickLabels(one)
        XCTAssertGreaterThanOrEqual(labels.count, 3, "a one-point chart still has ticks: \(labels)")
        let oneLog = LineChart(title: "one log", series: [PlotSeries(label: "s", points: [PlotPoint(x: 1, y: 5)])], yScale: .log).svg()
        XCTAssertEqual(count("<circle", in: oneLog), 1)
    }

    func testLogScaleTicksAreDecadesAndNonPositiveValuesAreCounted() {
        let points = [PlotPoint(x: 0, y: 10), PlotPoint(x: 1, y: 0.001), PlotPoint(x: 2, y: 0), PlotPoint(x: 3, y: -1), PlotPoint(x: 4, y: 0.5)]
        let svg = LineChart(title: "beta", yLabel: "beta", series: [PlotSeries(label: "beta", points: points)], yScale: .log).svg()
        let labels = tickLabels(svg)
        for expected in ["0.001", "0.01", "0.1", "1", "10"] {
            XCTAssertTrue(labels.contains(expected), "log ticks \(labels) lack \(expected)")
        }
        XCTAssertTrue(svg.contains("2 values &lt;= 0 not shown on the log scale"))
        XCTAssertTrue(svg.contains("beta (log)"))
    }

    func testLogScaleWithinOneDecadeGetsIntermediateTicks() {
        let svg = LineChart(title: "t", series: [PlotSeries(label: "s", points: [PlotPoint(x: 0, y: 0.12), PlotPoint(x: 1, y: 0.6)])],
                            yScale: .log).svg()
        let labels = tickLabels(svg)
        XCTAssertTrue(labels.contains("0.2") && labels.contains("0.5"), "\(labels)")
    }

    func testThinningAveragesBucketsAndKeepsGaps() {
        let points = (0..<1000).map { PlotPoint(x: Double($0), y: $0 < 500 ? 1 : 3) }
        let thin = PlotSeries(label: "s", points: points).thinned(maxPoints: 10)
        XCTAssertEqual(thin.points.count, 10)
        XCTAssertEqual(thin.points[0].y, 1)
        XCTAssertEqual(thin.points[9].y, 3)
        XCTAssertEqual(thin.points[0].x, 49.5, accuracy: 1e-9)
        let gaps = PlotSeries(label: "s", points: (0..<100).map { PlotPoint(x: Double($0), y: $0 < 50 ? .nan : 2) }).thinned(maxPoints: 4)
        XCTAssertTrue(gaps.points[0].y.isNaN && gaps.points[1].y.isNaN)
        XCTAssertEqual(gaps.points[3].y, 2)
        let short = PlotSeries(label: "s", points: [PlotPoint(x: 0, y: 1)]).thinned(maxPoints: 10)
        XCTAssertEqual(short.points.count, 1)
    }

    func testDashedSeriesAndLegendWrapping() {
        let many = (0..<12).map { i in
            PlotSeries(label: "a fairly long series label \(i)", points: [PlotPoint(x: 0, y: Double(i)), PlotPoint(x: 1, y: Double(i + 1))], dashed: i == 3)
        }
        let svg = LineChart(title: "many", series: many, width: 560, height: 400).svg()
        XCTAssertEqual(count("stroke-dasharray", in: svg), 2, "the dashed series and its legend swatch")
        // Legend rows stay inside the SVG: every text y is within the height.
        let ys = svg.components(separatedBy: " y=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        XCTAssertTrue(ys.allSatisfy { $0 >= 0 && $0 <= 400 }, "coordinates out of bounds: \(ys.filter { $0 < 0 || $0 > 400 })")
    }

    func testHistogramAgainstReference() {
        let chart = HistogramChart(title: "distances", xLabel: "|z|", edges: [0, 1, 2, 3], counts: [10, 30, 60],
                                   reference: [0.2, 0.5, 0.3], referenceLabel: "chi(4)")
        XCTAssertNil(chart.problem)
        let svg = chart.svg()
        XCTAssertEqual(count("class=\"bar\"", in: svg), 3)
        XCTAssertEqual(count("stroke-dasharray", in: svg), 2, "reference line and its legend swatch")
        XCTAssertTrue(svg.contains(">chi(4)</text>"))
        // Bar heights follow the fractions 0.1 : 0.3 : 0.6.
        let heights = svg.components(separatedBy: "class=\"bar\"").dropFirst().compactMap { part -> Double? in
            guard let r = part.range(of: "height=\"") else { return nil }
            return Double(part[r.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertEqual(heights.count, 3)
        XCTAssertEqual(heights[1] / heights[0], 3, accuracy: 0.05)
        XCTAssertEqual(heights[2] / heights[0], 6, accuracy: 0.1)
    }

    func testMalformedHistogramsSayWhy() {
        XCTAssertEqual(HistogramChart(title: "h", xLabel: "x", edges: [0, 1], counts: [1, 2]).problem,
                       "malformed histogram: 2 counts need 3 edges, found 2")
        XCTAssertEqual(HistogramChart(title: "h", xLabel: "x", edges: [], counts: []).problem, "no histogram bins")
        XCTAssertEqual(HistogramChart(title: "h", xLabel: "x", edges: [0, 1, 2], counts: [0, 0]).problem, "no samples in the histogram")
        XCTAssertEqual(HistogramChart(title: "h", xLabel: "x", edges: [0, 2, 1], counts: [1, 1]).problem,
                       "malformed histogram: bin edges not increasing at index 2")
        XCTAssertEqual(HistogramChart(title: "h", xLabel: "x", edges: [0, 1, 2], counts: [1, 1], reference: [0.5]).problem,
                       "malformed histogram: 2 bins but 1 reference values")
        let svg = HistogramChart(title: "h", xLabel: "x", edges: [0, 1], counts: [1, 2]).svg()
        XCTAssertTrue(svg.contains("2 counts need 3 edges"))
        XCTAssertFalse(svg.contains("class=\"bar\""))
    }

    func testChiMean() {
        // E|z| for z ~ N(0, I_1) is sqrt(2 / pi); for k = 2 it is sqrt(pi / 2).
        XCTAssertEqual(RunCharts.chiMean(degreesOfFreedom: 1), sqrt(2 / Double.pi), accuracy: 1e-12)
        XCTAssertEqual(RunCharts.chiMean(degreesOfFreedom: 2), sqrt(Double.pi / 2), accuracy: 1e-12)
        XCTAssertEqual(RunCharts.chiMean(degreesOfFreedom: 1024), sqrt(1023.5), accuracy: 1e-3)
    }

    func testNumberFormatting() {
        XCTAssertEqual(NumberFormat.compact(0.000012345), "1.234e-5")
        XCTAssertEqual(NumberFormat.compact(0.1), "0.1")
        XCTAssertEqual(NumberFormat.compact(1000), "1000")
        XCTAssertEqual(NumberFormat.compact(.nan), "NaN")
        XCTAssertEqual(DurationFormat.words(3725), "1 h 02 min")
        XCTAssertEqual(DurationFormat.words(65), "1 min 05 s")
        XCTAssertEqual(DurationFormat.words(0.25), "250 ms")
    }
}

final class LogAxisBoundsTests: XCTestCase {
    func testDataWithinADecadeIsNotFlattenedAtTheBottom() {
        let svg = LineChart(title: "beta", series: [PlotSeries(label: "beta", points: [PlotPoint(x: 0, y: 10.1), PlotPoint(x: 1, y: 10.17)])],
                            yScale: .log).svg()
        let labels = svg.components(separatedBy: "<text class=\"tick\"").dropFirst().compactMap { part -> String? in
            guard let start = part.firstIndex(of: ">"), let end = part.range(of: "</text>") else { return nil }
            return String(part[part.index(after: start)..<end.lowerBound])
        }
        XCTAssertTrue(labels.contains("10") && labels.contains("15") && labels.contains("20"), "\(labels)")
        XCTAssertFalse(labels.contains("100"), "bounds are 10 and 20, not a whole decade: \(labels)")
    }
}
