import Foundation

/// The outcome of one golden case: every tensor compared, the worst relative L2 error and
/// whether it is within tolerance.
public struct GoldenCaseResult: Sendable {
    /// The case name (a key of ops.json, or e.g. "train_step").
    public let name: String
    /// What the case exercises (the op name, "train_step", ...).
    public let kind: String
    /// Relative L2 error ||mine - ref|| / ||ref|| of each compared tensor, in comparison order.
    public let errors: [(tensor: String, error: Double, tolerance: Double)]
    /// Why the case could not run (unknown op, missing tensor, bad attribute), or nil.
    public let failure: String?

    public init(name: String, kind: String, errors: [(tensor: String, error: Double, tolerance: Double)], failure: String? = nil) {
        self.name = name; self.kind = kind; self.errors = errors; self.failure = failure
    }

    /// The compared tensor with the largest error relative to its tolerance.
    public var worst: (tensor: String, error: Double, tolerance: Double)? {
        errors.max { a, b in
            let ra = a.error.isNaN ? .infinity : a.error / a.tolerance
            let rb = b.error.isNaN ? .infinity : b.error / b.tolerance
            return ra < rb
        }
    }

    public var worstError: Double { worst?.error ?? .nan }
    public var worstTensor: String { worst?.tensor ?? "-" }

    /// Ran, compared at least one tensor, and every error is within its tolerance (NaN fails).
    public var passed: Bool {
        failure == nil && !errors.isEmpty && errors.allSatisfy { !$0.error.isNaN && $0.error <= $0.tolerance }
    }

    /// One line: status, name, worst error and which tensor (or the failure).
    public var summaryLine: String {
        let status = passed ? "PASS" : "FAIL"
        let padded = name.padding(toLength: max(28, name.count), withPad: " ", startingAt: 0)
        if let failure { return "\(status)  \(padded)  \(failure)" }
        guard let worst else { return "\(status)  \(padded)  nothing compared" }
        return "\(status)  \(padded)  worst rel L2 \(String(format: "%.3e", worst.error)) (\(worst.tensor), tolerance \(String(format: "%.0e", worst.tolerance)))"
    }
}

/// A set of golden checks that lives in a golden directory (e.g. ops.json + ops.safetensors).
///
/// `inkwell selftest` runs every suite in `GoldenSuites.all` whose files are present.
public protocol GoldenSuite {
    /// A short name ("ops", "train_step").
    static var suiteName: String { get }
    /// Whether `directory` holds this suite's files.
    static func isPresent(in directory: URL) -> Bool
    /// Runs every case; throws only when the suite's files cannot be read at all.
    static func run(directory: URL) throws -> [GoldenCaseResult]
}

/// A suite whose cases share one relative L2 tolerance that the caller may set
/// (`inkwell selftest --tolerance`); suites with fixed per-tensor tolerances are plain `GoldenSuite`s.
public protocol GoldenSuiteWithTolerance: GoldenSuite {
    /// The tolerance `run(directory:)` uses.
    static var defaultTolerance: Double { get }
    /// Runs every case against `tolerance`.
    static func run(directory: URL, tolerance: Double) throws -> [GoldenCaseResult]
}

/// A problem reading a golden set as a whole (missing or malformed JSON).
public struct GoldenError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Relative L2 error ||mine - reference|| / ||reference|| in double precision; the absolute L2
/// error when the reference is all zeros; infinity when the element counts differ, NaN when
/// `mine` holds a NaN.
public func relativeL2Error(_ mine: [Float], _ reference: [Float]) -> Double {
    guard mine.count == reference.count else { return .infinity }
    var diff = 0.0, norm = 0.0
    for i in 0..<mine.count {
        let d = Double(mine[i]) - Double(reference[i])
        diff += d * d
        norm += Double(reference[i]) * Double(reference[i])
    }
    if diff.isNaN { return .nan }
    return norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
}
