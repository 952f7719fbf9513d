import Foundation

/// One problem in a pipeline file, located by line and column (1-based), printed as
/// `FILE:LINE:COLUMN: error: MESSAGE` like a compiler diagnostic.
public struct PipelineDiagnostic: Error, Equatable, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: MESSAGE`; for a command-line override (line 0), `--set K=V: error: MESSAGE`.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): error: \(message)" : "\(file): error: \(message)"
    }
}

/// Every problem found in a pipeline file, in file order.
public struct PipelineValidationError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public var diagnostics: [PipelineDiagnostic]
    public init(_ diagnostics: [PipelineDiagnostic]) {
        self.diagnostics = diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    public var errorDescription: String? { description }
}

/// Near-miss suggestions for misspelt names.
public enum NameSuggestion {
    /// Edit distance between two strings (by Unicode scalars): insertions, deletions,
    /// substitutions and transpositions of neighbours each cost 1 (optimal string alignment).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    /// The closest candidate when it is near enough (distance at most max(1, length / 3), or a
    /// case-insensitive match), else nil.
    public static func closest(to name: String, in candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = candidate.lowercased() == name.lowercased() ? 0 : editDistance(name, candidate)
            if best == nil || d < best!.1 { best = (candidate, d) }
        }
        guard let (candidate, distance) = best else { return nil }
        return distance <= max(1, max(name.count, candidate.count) / 3) ? candidate : nil
    }

    /// " (did you mean 'x'?)" or "".
    public static func hint(for name: String, in candidates: [String]) -> String {
        closest(to: name, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}
