import Foundation
import InkwellFiles

/// Number formatting shared by plots, tables and labels.
public enum NumberFormat {
    /// A compact rendering with `significant` digits: `0.001234`, `1.234e-05` as `1.234e-5`,
    /// `12345` as `1.234e+4` only when it would not fit otherwise; non-finite values as `NaN`,
    /// `inf`, `-inf`.
    public static func compact(_ value: Double, significant: Int = 4) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        if value == value.rounded() && abs(value) < 1e7 { return String(Int(value)) }
        var text = String(format: "%.\(significant)g", value)
        // "1.5e-05" -> "1.5e-5", "2e+07" -> "2e+7"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let mantissa = text[..<e]
            var exponent = text[text.index(after: e)...]
            var sign = ""
            if let first = exponent.first, first == "-" || first == "+" {
                sign = first == "-" ? "-" : "+"
                exponent = exponent.dropFirst()
            }
            let digits = exponent.drop(while: { $0 == "0" })
            text = "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : String(digits))"
        }
        return text
    }


    /// A byte count as `512 B`, `3.4 KiB`, `12.0 MiB`, `1.20 GiB`.
    public static func bytes(_ count: Int64) -> String {
        let v = Double(count)
        if count < 1024 { return "\(count) B" }
        if v < 1024 * 1024 { return String(format: "%.1f KiB", v / 1024) }
        if v < 1024 * 1024 * 1024 { return String(format: "%.1f MiB", v / 1024 / 1024) }
        return String(format: "%.2f GiB", v / 1024 / 1024 / 1024)
    }
}

/// Escaping for text placed in HTML and SVG (both XML-like): `&`, `<`, `>`, `"`, `'`.
public enum Markup {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
