/// Why an operation on one file failed: what went wrong (`kind`, from the domain's own list), the
/// file, and the reason. `description` is one line, `PATH: reason`, ready for stderr and for a
/// manifest's list of rejected inputs. Each module names its instance: `VideoError`,
/// `DatasetError`.
public struct FileError<Kind: Hashable & Sendable>: Error, CustomStringConvertible, Sendable, Equatable {
    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
