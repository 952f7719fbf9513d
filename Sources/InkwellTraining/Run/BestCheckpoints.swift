import Foundation
import InkwellFiles

/// RUN/checkpoints/best-1 ... best-K: copies of `latest` made at evaluations, ranked by test pixel
/// error (best-1 the lowest; each one's state.json records its `test_pixel`).
///
/// `offer` inserts a just-written latest when it ranks: latest is copied to `.candidate-STEP`,
/// every ranked folder and the candidate are renamed to staging names (`.rank-I-STEP`) and then
/// to their ranks, the one past K removed; the folder is synced after. A crash in between leaves
/// hidden `.candidate-` / `.rank-` folders, which the trainer removes when it starts, and at
/// worst fewer best checkpoints than K: never a corrupt one, never a changed `latest`.
public struct BestCheckpoints: Sendable {
    /// The run's layout (RUN/checkpoints holds the folders).
    public let layout: RunLayout
    /// K: how many to keep (0 keeps none).
    public let keep: Int

    public init(layout: RunLayout, keep: Int) {
        self.layout = layout
        self.keep = keep
    }

    /// The prefix of a candidate's folder name, removed as a leftover when a run starts.
    public static let candidatePrefix = ".candidate-"
    static let stagingPrefix = ".rank-"
    /// The prefixes of what an interrupted `offer` leaves (removed when a run starts).
    public static let leftoverPrefixes = [candidatePrefix, stagingPrefix]

    /// Flushes every file of a copied checkpoint folder, and the folder, to disk.
    static func syncFiles(in folder: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try AtomicFile.sync(folder.appendingPathComponent(name))
        }
        AtomicFile.syncDirectory(folder)
    }

    /// (test pixel error, folder) of the best checkpoints on disk, in rank order; a folder whose
    /// state.json has no test pixel ranks last.
    public func ranked() -> [(pixel: Double, url: URL)] {
        var entries: [(pixel: Double, url: URL)] = []
        for rank in 1...max(keep, 1) + 8 {
            let url = layout.bestCheckpoint(rank)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            entries.append(((try? Checkpoint.readState(url))?.testPixel ?? .infinity, url))
        }
        return entries
    }

    /// Whether a checkpoint with test pixel error `pixel` would enter the best K.
    public func ranks(_ pixel: Double, among entries: [(pixel: Double, url: URL)]) -> Bool {
        guard keep > 0 else { return false }
        guard entries.count >= keep, let worst = entries.map(\.pixel).max() else { return true }
        return pixel < worst
    }

    /// Inserts a copy of `latest` (written at the evaluation of `step` with test pixel error
    /// `pixel`) when it ranks among the best K.
    public func offer(latest: URL, pixel: Double, step: Int) throws {
        var entries = ranked()
        guard ranks(pixel, among: entries) else { return }
        let fm = FileManager.default
        let directory = layout.checkpoints
        do {
            let candidate = directory.appendingPathComponent("\(Self.candidatePrefix)\(step)")
            try? fm.removeItem(at: candidate)
            try fm.copyItem(at: latest, to: candidate)
            try Self.syncFiles(in: candidate)
            entries.append((pixel, candidate))
            entries.sort { $0.pixel < $1.pixel }
            // Move every ranked directory to a staging name, then to its rank.
            var staged: [URL] = []
            for (index, entry) in entries.enumerated() {
                let staging = directory.appendingPathComponent("\(Self.stagingPrefix)\(index)-\(step)")
                try? fm.removeItem(at: staging)
                try fm.moveItem(at: entry.url, to: staging)
                staged.append(staging)
            }
            for (index, url) in staged.enumerated() {
                if index < keep {
                    try fm.moveItem(at: url, to: layout.bestCheckpoint(index + 1))
                } else {
                    try fm.removeItem(at: url)
                }
            }
            AtomicFile.syncDirectory(directory)
        } catch {
            throw TrainingError.io("best checkpoints in \(directory.path): \(error.localizedDescription)")
        }
    }
}
