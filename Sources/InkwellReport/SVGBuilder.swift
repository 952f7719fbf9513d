import Foundation

/// Accumulates the markup of one `<svg>` element. Coordinates are CSS pixels; numbers are written
/// with two decimals at most. Every chart carries its own small `<style>`, so it still reads when
/// saved on its own.
struct SVGBuilder {
    private var body = ""
    let width: Double
    let height: Double
    let title: String

    init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    static func n(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        return String(format: "%.2f", r)
    }

    mutating func text(_ string: String, x: Double, y: Double, anchor: String, cssClass: String, rotate: Double? = nil) {
        var transform = ""
        if let angle = rotate { transform = " transform=\"rotate(\(SVGBuilder.n(angle)) \(SVGBuilder.n(x)) \(SVGBuilder.n(y)))\"" }
        body += "<text class=\"\(cssClass)\" x=\"\(SVGBuilder.n(x))\" y=\"\(SVGBuilder.n(y))\" text-anchor=\"\(anchor)\"\(transform)>\(Markup.escape(string))</text>"
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, cssClass: String) {
        body += "<line class=\"\(cssClass)\" x1=\"\(SVGBuilder.n(x1))\" y1=\"\(SVGBuilder.n(y1))\" x2=\"\(SVGBuilder.n(x2))\" y2=\"\(SVGBuilder.n(y2))\"/>"
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, cssClass: String? = nil,
                       fill: String? = nil, opacity: Double? = nil) {
        var attributes = ""
        if let c = cssClass { attributes += " class=\"\(c)\"" }
        if let f = fill { attributes += " fill=\"\(f)\"" }
        if let o = opacity { attributes += " fill-opacity=\"\(SVGBuilder.n(o))\"" }
        body += "<rect\(attributes) x=\"\(SVGBuilder.n(x))\" y=\"\(SVGBuilder.n(y))\" width=\"\(SVGBuilder.n(max(0, width)))\" height=\"\(SVGBuilder.n(max(0, height)))\"/>"
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: String) {
        body += "<circle cx=\"\(SVGBuilder.n(cx))\" cy=\"\(SVGBuilder.n(cy))\" r=\"\(SVGBuilder.n(r))\" fill=\"\(fill)\"/>"
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, dashed: Bool, width: Double = 1.6) {
        let coordinates = points.map { "\(SVGBuilder.n($0.0)),\(SVGBuilder.n($0.1))" }.joined(separator: " ")
        let dash = dashed ? " stroke-dasharray=\"6 4\"" : ""
        body += "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(SVGBuilder.n(width))\" stroke-linejoin=\"round\"\(dash) points=\"\(coordinates)\"/>"
    }

    static let style = """
        <style>.chart text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;fill:#222}\
        .chart .chart-title{font-size:13px;font-weight:600}.chart .tick{font-size:10px;fill:#555}\
        .chart .axis-label{font-size:11px;fill:#333}.chart .legend{font-size:10.5px}\
        .chart .chart-note{font-size:10px;fill:#8a5a00}.chart .no-data{font-size:14px;fill:#999}\
        .chart .plot-area{fill:#fcfcfd;stroke:none}.chart .grid{stroke:#e3e3e8;stroke-width:1}\
        .chart .axis{stroke:#666;stroke-width:1}.chart .bar{fill:#4e79a7;fill-opacity:.55}</style>
        """

    func finish() -> String {
        let w = SVGBuilder.n(width), h = SVGBuilder.n(height)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(w) \(h)\" width=\"\(w)\" height=\"\(h)\" role=\"img\" aria-label=\"\(Markup.escape(title))\"><title>\(Markup.escape(title))</title>" + SVGBuilder.style + body + "</svg>"
    }
}
