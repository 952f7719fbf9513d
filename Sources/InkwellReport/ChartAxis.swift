import Foundation

/// How values map onto a chart axis.
public enum AxisScale: Sendable, Equatable {
    case linear
    /// Base-10 logarithmic; values <= 0 cannot be drawn and are left out (the chart says how many).
    case log
}

/// One labelled tick of an axis.
struct AxisTick: Equatable {
    var value: Double
    var label: String
}

/// A numeric axis: its domain, scale and ticks. Pure arithmetic, no drawing.
struct ChartAxis {
    var scale: AxisScale
    /// The domain drawn, in data units (for `.log`, still data units, both > 0).
    var lower: Double
    var upper: Double
    var ticks: [AxisTick]

    /// An axis covering `values` (finite, and > 0 for log), widened to round tick values when
    /// `niceBounds` is set; `integerTicks` keeps linear ticks on whole numbers. One distinct value gets a small range around it; no values get [0, 1].
    init(covering values: [Double], scale: AxisScale, niceBounds: Bool, targetTicks: Int = 5, integerTicks: Bool = false) {
        self.scale = scale
        var lo = values.min() ?? .nan
        var hi = values.max() ?? .nan
        switch scale {
        case .linear:
            if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
            if lo == hi {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= pad
                hi += pad
            }
            var step = ChartAxis.niceStep((hi - lo) / Double(max(targetTicks, 2)))
            if integerTicks {
                // Whole numbers only (steps): no 0.5 or 2.5 ticks.
                step = max(1, step)
                let m = step / pow(10, log10(step).rounded(.down))
                if m == 2.5 { step = 2 * pow(10, log10(step).rounded(.down)) }
            }
            if niceBounds {
                lo = (lo / step).rounded(.down) * step
                hi = (hi / step).rounded(.up) * step
            }
            self.lower = lo
            self.upper = hi
            self.ticks = ChartAxis.linearTicks(lower: lo, upper: hi, step: step)
        case .log:
            if !lo.isFinite || !hi.isFinite || lo <= 0 { lo = 1; hi = 10 }
            if lo == hi {
                lo /= 3.1622776601683795
                hi *= 3.1622776601683795
            }
            if niceBounds {
                if log10(hi / lo) < 1.5 {
                    // Less than ~1.5 decades: round to 1, 2, 5 times a power of ten, not to decades,
                    // so the data does not sit flat at the bottom of a decade.
                    lo = ChartAxis.logStep(lo, up: false)
                    hi = ChartAxis.logStep(hi, up: true)
                } else {
                    lo = pow(10, log10(lo).rounded(.down))
                    hi = pow(10, log10(hi).rounded(.up))
                }
            }
            self.lower = lo
            self.upper = hi
            self.ticks = ChartAxis.logTicks(lower: lo, upper: hi)
        }
    }

    /// The fraction (0 at `lower`, 1 at `upper`) where `value` lies.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .log: return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// Whether `value` can be drawn on this axis (finite, and positive on a log axis).
    func canShow(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    /// 1, 2, 2.5 or 5 times a power of ten, the nearest at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let residual = raw / magnitude
        let nice: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
        return nice * magnitude
    }

    static func linearTicks(lower: Double, upper: Double, step: Double) -> [AxisTick] {
        var values: [Double] = []
        var v = (lower / step).rounded(.up) * step
        let end = upper + step * 1e-9
        while v <= end && values.count < 50 {
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        let useThousands = step >= 1000 && values.allSatisfy { ($0 / 1000).rounded() == $0 / 1000 }
            && (values.map(abs).max() ?? 0) >= 10_000
        let decimals = max(0, Int(-log10(step).rounded(.down)) + (step / pow(10, log10(step).rounded(.down)) == 2.5 ? 1 : 0))
        return values.map { value in
            let label: String
            if abs(value) >= 1e7 || (abs(value) < 1e-4 && value != 0) {
                label = NumberFormat.compact(value, significant: 3)
            } else if useThousands {
                label = "\(NumberFormat.compact(value / 1000))k"
            } else {
                label = String(format: "%.\(decimals)f", value)
            }
            return AxisTick(value: value, label: label)
        }
    }

    /// The nearest of 1, 2, 5 times a power of ten below (or above, `up`) `value`.
    static func logStep(_ value: Double, up: Bool) -> Double {
        let decade = pow(10, log10(value).rounded(.down))
        let candidates = [1.0, 2, 5, 10].map { $0 * decade }
        if up { return candidates.first { $0 >= value * (1 - 1e-12) } ?? 10 * decade }
        return candidates.last { $0 <= value * (1 + 1e-12) } ?? decade
    }

    static func logTicks(lower: Double, upper: Double) -> [AxisTick] {
        let first = Int(log10(lower).rounded(.down))
        let last = Int(log10(upper).rounded(.up))
        let decades = last - first
        var ticks: [AxisTick] = []
        let stride = max(1, (decades + 7) / 8)
        for exponent in first...last {
            let multipliers: [Double] = decades <= 1 ? [1, 1.5, 2, 3, 5, 7] : decades <= 2 ? [1, 2, 5] : [1]
            for m in multipliers {
                let value = m * pow(10, Double(exponent))
                guard value >= lower * (1 - 1e-9), value <= upper * (1 + 1e-9) else { continue }
                if m == 1 && (exponent - first) % stride != 0 { continue }
                ticks.append(AxisTick(value: value, label: logLabel(value)))
            }
        }
        if ticks.isEmpty {
            ticks = [AxisTick(value: lower, label: logLabel(lower)), AxisTick(value: upper, label: logLabel(upper))]
        }
        return ticks
    }

    static func logLabel(_ value: Double) -> String {
        if value >= 1e-3 && value < 1e5 { return NumberFormat.compact(value, significant: 3) }
        let exponent = Int(log10(value).rounded(.down))
        let mantissa = value / pow(10, Double(exponent))
        let m = (mantissa * 100).rounded() / 100
        return m == 1 ? "1e\(exponent)" : "\(NumberFormat.compact(m))e\(exponent)"
    }
}

extension SVGBuilder {
    /// Draws `yAxis`'s ticks as grid lines across `frame` with labels on its left, and `xAxis`'s
    /// as tick marks below it with labels underneath.
    mutating func ticks(x xAxis: ChartAxis, y yAxis: ChartAxis, in frame: PlotFrame) {
        for tick in yAxis.ticks {
            let y = frame.y1 - yAxis.fraction(tick.value) * frame.height
            line(x1: frame.x0, y1: y, x2: frame.x1, y2: y, cssClass: "grid")
            text(tick.label, x: frame.x0 - 5, y: y + 3.5, anchor: "end", cssClass: "tick")
        }
        for tick in xAxis.ticks {
            let x = frame.x0 + xAxis.fraction(tick.value) * frame.width
            line(x1: x, y1: frame.y1, x2: x, y2: frame.y1 + 4, cssClass: "axis")
            text(tick.label, x: x, y: frame.y1 + 16, anchor: "middle", cssClass: "tick")
        }
    }
}
