import Foundation

/// The one duration formatter of every module (progress lines, reports, command summaries), in
/// two styles over the same rounding.
public enum DurationFormat {
    /// `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`; `unknown` when not finite. For reports and
    /// summaries.
    public static func words(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "unknown" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let (h, m, s) = parts(seconds)
        return h == 0 ? String(format: "%d min %02d s", m, s) : String(format: "%d h %02d min", h, m)
    }

    /// `45s`, `2m03s`, `1h02m`; `?` when not finite. For progress lines (an ETA).
    public static func compact(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let (h, m, s) = parts(seconds)
        if h > 0 { return "\(h)h\(String(format: "%02d", m))m" }
        if m > 0 { return "\(m)m\(String(format: "%02d", s))s" }
        return "\(s)s"
    }

    /// Whole hours, minutes of the hour and seconds of the minute of `seconds`, rounded.
    static func parts(_ seconds: Double) -> (hours: Int, minutes: Int, seconds: Int) {
        let total = Int(seconds.rounded())
        return (total / 3600, total % 3600 / 60, total % 60)
    }
}
