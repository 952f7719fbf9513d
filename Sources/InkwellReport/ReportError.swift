import Foundation

/// Errors of the report module. Each message is one line naming the file and the reason.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// A file exists but cannot be read or parsed.
    case unreadable(String, reason: String)
    /// A run directory (or another required path) does not exist.
    case missing(String, reason: String)
    /// Writing an output file failed.
    case writeFailed(String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .missing(let path, let reason): return "\(path): \(reason)"
        case .writeFailed(let path, let reason): return "\(path): cannot write (\(reason))"
        }
    }
}
