import Crypto
import Foundation

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
