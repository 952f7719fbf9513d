import Foundation

/// Where one frame of a shard came from. Each shard `X.npy` has a sidecar `X.frames.csv` with one
/// row per frame, in shard order, under the header
/// `shard,index,video,video_sha256,timestamp,key_frame,flipped`:
/// the shard's file name, the frame's index in the shard, the source video's path and content
/// digest, the presentation time in seconds, 1 when the decoder flagged a key frame, and 1 for a
/// frame that horizontal-flip augmentation added. Fields are quoted as RFC 4180 says when needed.
public struct FrameProvenance: Equatable, Sendable {
    public var video: String
    public var videoSHA256: String
    /// Presentation time in seconds from the start of the video.
    public var timestamp: Double
    public var isKeyFrame: Bool
    /// Whether this frame is a horizontally mirrored copy (augmentation).
    public var flipped: Bool

    public init(video: String, videoSHA256: String, timestamp: Double, isKeyFrame: Bool, flipped: Bool = false) {
        self.video = video
        self.videoSHA256 = videoSHA256
        self.timestamp = timestamp
        self.isKeyFrame = isKeyFrame
        self.flipped = flipped
    }

    public static let csvHeader = "shard,index,video,video_sha256,timestamp,key_frame,flipped"

    /// The sidecar text for a shard named `shard` holding `frames` in order.
    public static func csv(shard: String, frames: [FrameProvenance]) -> String {
        var out = csvHeader + "\n"
        out.reserveCapacity(frames.count * 120)
        let shardField = quote(shard)
        for (i, f) in frames.enumerated() {
            out += "\(shardField),\(i),\(quote(f.video)),\(f.videoSHA256),\(formatTime(f.timestamp)),\(f.isKeyFrame ? 1 : 0),\(f.flipped ? 1 : 0)\n"
        }
        return out
    }

    /// Parses a sidecar written by `csv(shard:frames:)`; `path` names the file in errors.
    public static func parse(csv text: String, path: String) throws -> [FrameProvenance] {
        let rows = parseCSV(text)
        guard let header = rows.first, header == csvHeader.split(separator: ",").map(String.init) else {
            throw DatasetError(.malformed, path: path, reason: "line 1: expected header '\(csvHeader)'")
        }
        var result: [FrameProvenance] = []
        result.reserveCapacity(rows.count - 1)
        for (n, row) in rows.dropFirst().enumerated() {
            let line = n + 2
            guard row.count == 7, let index = Int(row[1]), let t = Double(row[4]),
                  row[5] == "0" || row[5] == "1", row[6] == "0" || row[6] == "1" else {
                throw DatasetError(.malformed, path: path, reason: "line \(line): expected 7 fields (index, video, sha, time, 0/1, 0/1)")
            }
            guard index == result.count else {
                throw DatasetError(.malformed, path: path, reason: "line \(line): index \(index), expected \(result.count)")
            }
            result.append(FrameProvenance(video: row[2], videoSHA256: row[3], timestamp: t,
                                          isKeyFrame: row[5] == "1", flipped: row[6] == "1"))
        }
        return result
    }

    static func formatTime(_ t: Double) -> String {
        // Microsecond precision, no exponent notation.
        String(format: "%.6f", t)
    }

    static func quote(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// Splits RFC 4180 CSV into rows of fields (quoted fields may hold commas, quotes, newlines).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n":
                row.append(field); field = ""
                rows.append(row); row = []
            case "\r": break
            default: field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
