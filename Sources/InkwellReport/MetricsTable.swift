import Foundation
import InkwellTraining

/// The parsed `metrics.csv` of a run: one row per training step (`phase` = `train`) plus one per
/// evaluation (`phase` = `test`). Columns are looked up by header name, so readers do not depend
/// on the column order and extra columns are kept.
///
/// Parsing is lenient where a run may still be writing: a row with the wrong number of fields (a
/// half-written last line, say) is skipped and recorded in `problems` with its line number;
/// empty or unparsable numeric fields read as NaN.
public struct MetricsTable: Sendable {
    /// Column names in file order.
    public let header: [String]
    /// The `phase` of every row (`train`, `test`, or whatever the file says), in file order.
    public let phases: [String]
    /// Every column as numbers (NaN where empty or not a number), in file order.
    public let columns: [String: [Double]]
    /// One line per skipped or suspicious line: "metrics.csv line 7: 3 fields, header has 24".
    public let problems: [String]

    /// The number of rows kept.
    public var rowCount: Int { phases.count }

    /// Parses CSV text. `source` names the file in problems and errors. Throws only when there is
    /// no header line.
    public init(text: String, source: String = RunLayout.metricsName) throws {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first, !headerLine.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ReportError.unreadable(source, reason: "empty file (no header line)")
        }
        let header = MetricsTable.fields(headerLine).map { $0.trimmingCharacters(in: .whitespaces) }
        var phases: [String] = []
        var columns = [[Double]](repeating: [], count: header.count)
        var problems: [String] = []
        let phaseIndex = header.firstIndex(of: "phase")
        for (offset, line) in lines.enumerated().dropFirst() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = MetricsTable.fields(line)
            guard fields.count == header.count else {
                problems.append("\(source) line \(offset + 1): \(fields.count) fields, header has \(header.count); row skipped")
                continue
            }
            phases.append(phaseIndex.map { fields[$0].trimmingCharacters(in: .whitespaces) } ?? "train")
            for (i, field) in fields.enumerated() {
                columns[i].append(Double(field.trimmingCharacters(in: .whitespaces)) ?? .nan)
            }
        }
        var byName: [String: [Double]] = [:]
        for (i, name) in header.enumerated() where byName[name] == nil { byName[name] = columns[i] }
        if phaseIndex == nil { problems.append("\(source): no `phase` column; every row read as a training row") }
        if byName["step"] == nil { problems.append("\(source): no `step` column; curves are drawn against the row number") }
        self.header = header
        self.phases = phases
        self.columns = byName
        self.problems = problems
    }

    /// Reads `url`; throws a one-line error naming the file when it cannot be read.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ReportError.unreadable(url.path, reason: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReportError.unreadable(url.path, reason: "not UTF-8 text")
        }
        try self.init(text: text, source: url.path)
    }

    /// Splits one CSV line into fields; double-quoted fields may hold commas and `""` quotes.
    static func fields(_ line: String) -> [String] {
        guard line.contains("\"") else { return line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line)
        var i = 0
        while i < iterator.count {
            let ch = iterator[i]
            if quoted {
                if ch == "\"" {
                    if i + 1 < iterator.count && iterator[i + 1] == "\"" {
                        current.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
            i += 1
        }
        fields.append(current)
        iterator.removeAll()
        return fields
    }

    /// Whether the file has column `name`.
    public func has(_ name: String) -> Bool { columns[name] != nil }

    /// The indices of the rows of `phase` (all rows when nil).
    public func rows(phase: String?) -> [Int] {
        guard let phase = phase else { return Array(0..<rowCount) }
        return phases.indices.filter { phases[$0] == phase }
    }

    /// The value of column `name` at `row`, or NaN when the column is absent.
    public func value(_ name: String, row: Int) -> Double {
        columns[name]?[row] ?? .nan
    }

    /// (step, column) points of the rows of `phase`, in file order; nil when the column is absent.
    /// Without a `step` column, x is the row number.
    public func series(_ name: String, phase: String?) -> [PlotPoint]? {
        guard let ys = columns[name] else { return nil }
        let xs = columns["step"]
        return rows(phase: phase).map { PlotPoint(x: xs?[$0] ?? Double($0), y: ys[$0]) }
    }
}
