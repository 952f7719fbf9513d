import Foundation
import Inkwell

/// `crop-hud`: removes the game's HUD bands from every frame of a dataset. Each frame loses the
/// top `top` and bottom `bottom` fractions of its rows (Splatoon's HUD: the team ink meter and
/// timer at the top, the special gauge and map at the bottom), and the rest is stretched back to
/// the dataset's frame size with bilinear interpolation, so the frame size (and the model's
/// 2x - 1 rule) does not change. Frames keep their video and split.
public struct CropHUDStage: Stage {
    public static let kind = "crop-hud"
    public static let version = 1
    public static let documentation = """
        Crops the HUD bands (top and bottom fractions of the rows) from every frame of a dataset \
        and stretches the rest back to the frame size (bilinear). Example plugin stage.
        """
    public static let inputs = [PortSpec("data", .dataset, "the dataset to crop")]
    public static let outputs = [PortSpec("dataset", .dataset, "the cropped dataset (same frame size)")]
    public static let parameters = [
        ParameterSpec("top", .double, default: .double(0.12), "fraction of rows removed at the top", check: ParameterSpec.range(0, 0.45)),
        ParameterSpec("bottom", .double, default: .double(0.08), "fraction of rows removed at the bottom", check: ParameterSpec.range(0, 0.45)),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let source = try Dataset(url: context.input("data").url)
        let (width, height) = (source.width, source.height)
        let first = Int((context.parameters.double("top") * Double(height)).rounded())
        let last = height - 1 - Int((context.parameters.double("bottom") * Double(height)).rounded())
        guard last > first else { throw StageError("top + bottom leave no rows of a \(height)-row frame") }
        let output = context.output("dataset")
        try? FileManager.default.removeItem(at: output)  // DatasetBuilder writes a new dataset
        let builder = try DatasetBuilder(url: output, width: width, height: height,
                                         shardFrames: source.manifest.parameters.shardFrames)

        // Frames grouped by video (in order of first appearance), so each video keeps its split.
        var order: [String] = []
        var byVideo: [String: (sha: String, split: Split, bytes: [UInt8], count: Int)] = [:]
        var done = 0
        let total = source.manifest.frameCount
        for record in source.manifest.shards {
            try context.checkCancellation()
            let shard = try source.openShard(record)
            let provenance = try source.provenance(of: record)
            for i in 0..<shard.frames {
                let frame = UnsafeBufferPointer(start: shard.base + i * shard.frameBytes, count: shard.frameBytes)
                let cropped = Self.cropRows(frame, width: width, height: height, first: first, last: last)
                let video = provenance[i].video
                if byVideo[video] == nil {
                    order.append(video)
                    byVideo[video] = (provenance[i].videoSHA256, record.split, [], 0)
                }
                byVideo[video]!.bytes.append(contentsOf: cropped)
                byVideo[video]!.count += 1
                done += 1
            }
            context.progress.update(Double(done) / Double(max(total, 1)), "\(done)/\(total) frames")
        }
        for video in order {
            let v = byVideo[video]!
            try builder.addVideo(name: video, frames: v.bytes, count: v.count, split: v.split, sha256: v.sha)
        }
        let manifest = try builder.commit()
        context.logger.info("cropped rows \(first)...\(last) of \(height) in \(manifest.frameCount) frames from \(order.count) videos")
    }

    /// Rows `first...last` of an RGB24 frame (H, W, 3), stretched to `height` rows (bilinear in y).
    static func cropRows(_ frame: UnsafeBufferPointer<UInt8>, width: Int, height: Int, first: Int, last: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let span = Double(last - first)
        let rowBytes = width * 3
        for y in 0..<height {
            let sourceY = Double(first) + (height > 1 ? Double(y) * span / Double(height - 1) : 0)
            let y0 = Int(sourceY.rounded(.down)), y1 = Swift.min(y0 + 1, last)
            let t = sourceY - Double(y0)
            for x in 0..<rowBytes {
                let a = Double(frame[y0 * rowBytes + x]), b = Double(frame[y1 * rowBytes + x])
                out[y * rowBytes + x] = UInt8(Swift.min(255, Swift.max(0, (a + (b - a) * t).rounded())))
            }
        }
        return out
    }
}
