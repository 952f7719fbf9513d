import Foundation

/// What a stage's input or output holds. The runner checks that an input is bound to an output of
/// the same kind; the kind also says how a downstream stage should read the path.
public enum ArtifactKind: String, CaseIterable, Codable, Sendable {
    /// A folder of video files (MP4, MKV, ...).
    case videos
    /// A frame dataset folder (manifest.json and .npy shards), as written by ingest.
    case dataset
    /// A training run folder or one checkpoint folder (model.safetensors, state.json, ...).
    case checkpoint
    /// A metrics file or folder (metrics.csv, evaluation JSON).
    case metrics
    /// A folder of images (PNG).
    case images
    /// A report: an HTML file, or a folder holding one with its assets.
    case report
}

/// One declared input or output of a stage kind.
public struct PortSpec: Sendable {
    /// The port's name, used in pipeline files (`inputs: {data: ingest.dataset}`).
    public var name: String
    /// What the port holds.
    public var kind: ArtifactKind
    /// What the port is for, shown by `inkwell stages`.
    public var documentation: String
    /// Inputs only: the stage can run without it.
    public var isOptional: Bool
    /// Outputs only: where the stage writes it, relative to its output folder (defaults to the
    /// port's name). Nested paths are allowed (`run/checkpoints/latest`).
    public var relativePath: String

    public init(_ name: String, _ kind: ArtifactKind, optional: Bool = false, path: String? = nil, _ documentation: String) {
        self.name = name
        self.kind = kind
        self.documentation = documentation
        self.isOptional = optional
        self.relativePath = path ?? name
    }
}

/// A concrete artifact handed to a stage: its kind and where it lies on disk.
public struct Artifact: Sendable, Equatable {
    public var kind: ArtifactKind
    public var url: URL

    public init(kind: ArtifactKind, url: URL) {
        self.kind = kind
        self.url = url
    }
}
