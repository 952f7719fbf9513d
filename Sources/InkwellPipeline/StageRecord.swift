import Foundation
import InkwellFiles

/// Written atomically when a stage completes: what the stage ran with and what it produced.
/// A stage whose cache key matches its record, and whose outputs still have the recorded digests,
/// is up to date.
public struct StageRecord: Codable, Equatable {
    public struct Input: Codable, Equatable {
        public var stage: String
        public var output: String
        public var digest: String
    }
    public struct Output: Codable, Equatable {
        public var kind: String
        public var path: String
        public var digest: String
    }
    public var stage: String
    public var kind: String
    public var version: Int
    /// SHA-256 over kind, version, parameters and input digests.
    public var key: String
    public var inputs: [String: Input]
    public var outputs: [String: Output]
    public var started: Date
    public var finished: Date
    public var seconds: Double
}

/// Written when a stage starts and removed when it completes: a leftover attempt with the same
/// cache key and status "running" (the process was killed) or "interrupted" makes the next run
/// resume the stage in its kept output folder.
public struct StageAttempt: Codable, Equatable {
    public var key: String
    public var pid: Int32
    public var started: Date
    /// "running", "interrupted" or "failed".
    public var status: String
}

enum RecordFiles {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    static func read<T: Decodable>(_ type: T.Type, _ url: URL) -> T? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? decoder().decode(type, from: data)
    }

    static func write<T: Encodable>(_ value: T, _ url: URL) throws {
        try AtomicFile.write(try encoder().encode(value), to: url)
    }
}

extension StageRecord {
    /// The folder of a pipeline's work folder that holds the runner's records.
    public static let metadataFolderName = ".inkwell"
    /// A stage's completion record's file name inside `.inkwell/<stage>/`.
    public static let fileName = "record.json"

    /// WORKDIR/.inkwell/`stage`/record.json.
    public static func url(workDirectory: URL, stage: String) -> URL {
        workDirectory.appendingPathComponent(metadataFolderName).appendingPathComponent(stage).appendingPathComponent(fileName)
    }

    /// The completion record of `stage` in the pipeline work folder `workDirectory`; nil when the
    /// stage has not completed there (or its record is unreadable).
    public static func read(workDirectory: URL, stage: String) -> StageRecord? {
        RecordFiles.read(StageRecord.self, url(workDirectory: workDirectory, stage: stage))
    }

    /// Every completion record in the pipeline work folder `workDirectory`, in the order the
    /// stages started; nil when `workDirectory` has no `.inkwell` folder (not a pipeline's).
    public static func all(workDirectory: URL) -> [StageRecord]? {
        let metadata = workDirectory.appendingPathComponent(metadataFolderName)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: metadata.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let stages = ((try? FileManager.default.contentsOfDirectory(atPath: metadata.path)) ?? []).sorted()
        return stages.compactMap { read(workDirectory: workDirectory, stage: $0) }.sorted { $0.started < $1.started }
    }

    /// Encodes the record as the runner writes it (ISO 8601 dates, sorted keys).
    public func encoded() throws -> Data { try RecordFiles.encoder().encode(self) }
}
