import Foundation
import InkwellFiles

/// Why a dataset could not be read, written or verified. `description` is one line naming the
/// file (or dataset) and the reason, ready for stderr.
public typealias DatasetError = FileError<DatasetFailure>

/// What went wrong with a dataset (`DatasetError.kind`).
public enum DatasetFailure: String, Sendable, Codable {
    /// The dataset folder or its manifest is missing.
    case notFound
    /// The manifest or a shard's header cannot be parsed, or disagrees with the manifest.
    case malformed
    /// A shard's or sidecar's SHA-256 digest does not match the manifest.
    case corrupt
    /// A write, rename or fsync failed (out of disk, permissions, ...).
    case writeFailed
    /// The request contradicts the dataset (different frame size, unknown split, ...).
    case incompatible
    /// Another process holds the dataset's lock.
    case locked
    /// Nothing usable: no frames were ingested, or a split is empty.
    case empty
}

/// The message for the current `errno`.
func errnoString(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
