import Foundation
import InkwellDataset

/// The tiny dataset the training tests share: 13 x 9 frames, 4 train videos and 1 test video of
/// 10 frames each, shards of 8 frames, deterministic content.
public enum TinyDataset {
    /// Writes it at `url` (a new folder).
    public static func write(to url: URL) throws {
        let builder = try DatasetBuilder(url: url, width: 13, height: 9, shardFrames: 8)
        for v in 0..<5 {
            let count = 10
            var frames = [UInt8](repeating: 0, count: count * 9 * 13 * 3)
            for i in frames.indices { frames[i] = UInt8((i * 7 + v * 31 + (i / 39) * 3) % 256) }
            try builder.addVideo(name: "video-\(v)", frames: frames, count: count, split: v == 4 ? .test : .train)
        }
        _ = try builder.commit()
    }
}
