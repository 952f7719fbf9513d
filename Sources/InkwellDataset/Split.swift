import Crypto
import Foundation
import InkwellVideo

/// The two splits of a dataset. Splits are by video, never by frame.
public enum Split: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case train, test
    public var description: String { rawValue }
}

/// Assigns videos to splits from their content hash and a seed, so the assignment of a video never
/// depends on which other videos are in the dataset: adding videos never moves an old one.
///
/// `score = SHA-256("inkwell-split:<seed>:<sha256 hex>")`, its first 8 bytes read as a big-endian
/// UInt64 and scaled to [0, 1) (top 53 bits / 2^53); `score < testFraction` puts the video in test.
public enum SplitAssignment {
    /// A value in [0, 1) that depends only on `seed` and the video's content digest.
    public static func score(videoSHA256: String, seed: UInt64) -> Double {
        let digest = SHA256.hash(data: Data("inkwell-split:\(seed):\(videoSHA256.lowercased())".utf8))
        var word: UInt64 = 0
        for (i, b) in digest.enumerated() where i < 8 { word = word << 8 | UInt64(b) }
        return Double(word >> 11) * 0x1.0p-53
    }

    /// The split of a video: test when its score is below `testFraction` (default 0.1: about 9:1).
    public static func split(videoSHA256: String, seed: UInt64, testFraction: Double = 0.1) -> Split {
        score(videoSHA256: videoSHA256, seed: seed) < testFraction ? .test : .train
    }
}

/// The splits of an ingest's new videos: each by its score (`SplitAssignment`), except that a
/// dataset of two or more videos always has a test video and a train video, whatever
/// `testFraction` is. When the videos already in the dataset and the new ones' scores would
/// leave a split empty, the new video with the lowest score goes to test (the one a larger
/// fraction would take first), or the one with the highest to train.
///
/// Deciding that needs the new videos' digests before the first is committed, so only then
/// (a fresh dataset, or one with an empty split) are the inputs hashed first.
struct SplitPlan {
    var seed: UInt64
    var testFraction: Double
    /// Digests whose split is forced.
    var forced: [String: Split] = [:]
    /// The digest and size of each input hashed to make the plan, by path: the decode pool reuses
    /// them instead of reading the files a second time.
    var digests: [String: (digest: String, bytes: Int64)] = [:]

    func split(videoSHA256: String) -> Split {
        forced[videoSHA256] ?? SplitAssignment.split(videoSHA256: videoSHA256, seed: seed, testFraction: testFraction)
    }

    /// The plan for adding `inputs` (files, in input order) to a dataset holding `existing`.
    static func make(existing: [VideoRecord], inputs: [URL], seed: UInt64, testFraction: Double) -> SplitPlan {
        var plan = SplitPlan(seed: seed, testFraction: testFraction)
        let has = (test: existing.contains { $0.split == .test }, train: existing.contains { $0.split == .train })
        guard !(has.test && has.train) else { return plan }
        let known = Set(existing.map(\.sha256))
        var seen = Set<String>(), digests: [String] = []
        for url in inputs {
            // Only files that open as videos: one that is rejected must not be the forced one.
            guard (try? VideoDecoder(url: url)) != nil, let (sha, bytes) = try? FileIO.sha256(ofFileAt: url) else { continue }
            plan.digests[url.path] = (sha, bytes)
            guard !known.contains(sha), seen.insert(sha).inserted else { continue }
            digests.append(sha)
        }
        guard existing.count + digests.count >= 2, !digests.isEmpty else { return plan }
        let byScore = digests.sorted {
            SplitAssignment.score(videoSHA256: $0, seed: seed) < SplitAssignment.score(videoSHA256: $1, seed: seed)
        }
        if !has.test && !digests.contains(where: { plan.split(videoSHA256: $0) == .test }) { plan.forced[byScore[0]] = .test }
        if !has.train && !digests.contains(where: { plan.split(videoSHA256: $0) == .train }),
           let last = byScore.last(where: { plan.forced[$0] == nil }) {
            plan.forced[last] = .train
        }
        return plan
    }
}
