import Foundation
import InkwellEngine
import InkwellTraining
import InkwellVideo

/// The encode-decode video of a clip (`inkwell reconstruct`, the export stage): every frame of the
/// input is resized to the model's frame size, encoded to its posterior mean and decoded, and the
/// output shows the original (left) beside the reconstruction (right), each enlarged `scale`
/// times, as an H.264 MP4 through libavcodec, with the input's first audio stream copied (no
/// audio in, none out; none either when `start` cuts the beginning, as the copy cannot be cut).
///
/// The checkpoint is loaded and checked before anything is decoded, so a missing, corrupt or
/// mismatched checkpoint is one clear error and no output file is created.
public struct ClipReconstruction {
    public struct Options: Sendable {
        /// How many times each panel enlarges the model's frame (default 4: 121 x 65 -> 484 x 260).
        public var scale: Int = 4
        /// Frames run through the model at once (default 16).
        public var batch: Int = 16
        /// Seconds from the start of the clip to begin at, and to stop before (nil: whole clip).
        public var start: Double?
        public var end: Double?
        /// At most this many frames (nil: all).
        public var maxFrames: Int?
        /// H.264 CRF (lower is better; default 18).
        public var quality: Int = 18
        /// Pixels of dark border between the two panels (default 8; kept even).
        public var gap: Int = 8
        public init() {}
    }

    /// What was written.
    public struct Result: Sendable {
        public var output: URL
        public var frames: Int
        public var width: Int
        public var height: Int
        public var frameRate: Double
        public var audioPackets: Int
        /// Why there is no audio, when there is none.
        public var audioNote: String?
        /// Mean PSNR (dB) of the reconstructions against the model-size originals.
        public var meanPSNR: Double
        public var seconds: Double
    }

    public let model: VAEGAN
    public let checkpoint: URL
    /// The model's frame size.
    public let frameWidth: Int
    public let frameHeight: Int

    /// Loads the model of `checkpoint` (a checkpoint folder, or a run directory: its latest
    /// checkpoint). Throws a one-line error naming the checkpoint and the reason.
    public init(checkpoint: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: checkpoint.path, isDirectory: &isDirectory) else {
            throw ReportError.missing(checkpoint.path, reason: "no such checkpoint")
        }
        guard isDirectory.boolValue else {
            throw ReportError.unreadable(checkpoint.path, reason: "not a checkpoint folder (give the folder holding model.safetensors and state.json)")
        }
        do {
            model = try VAEGAN.load(checkpoint: checkpoint)
        } catch let error as TrainingError {
            throw ReportError.unreadable(checkpoint.path, reason: "cannot load the model: \(error)")
        }
        self.checkpoint = checkpoint
        let size = model.widths.frameSize
        frameHeight = size[0]
        frameWidth = size[1]
    }

    /// Reconstructs `video` into `output` (MP4). `progress` is called with the frames done so far
    /// after each batch. The output is written under a temporary name and renamed when complete.
    @discardableResult
    public func run(video: URL, output: URL, options: Options = Options(),
                    progress: ((Int) -> Void)? = nil) throws -> Result {
        precondition(options.scale >= 1 && options.batch >= 1, "scale and batch must be at least 1")
        let began = Date()
        let decoder = try VideoDecoder(url: video)
        let info = decoder.info
        let panelW = frameWidth * options.scale, panelH = frameHeight * options.scale
        let gap = options.gap + options.gap % 2
        // 4:2:0 video needs even sizes: pad the frame by a dark column / row when needed.
        let outW = (2 * panelW + gap + 1) / 2 * 2
        let outH = (panelH + 1) / 2 * 2
        let rate = ClipReconstruction.rational(info.frameRate)
        // The writer copies audio from the clip's beginning, so a clip cut with `start` gets none
        // (it would be out of sync).
        let startsLate = (options.start ?? 0) > 0
        let copyAudio = info.hasAudio && !startsLate
        let audioNote: String? = !info.hasAudio ? "the clip has no audio"
            : startsLate ? "audio not copied: it cannot be cut to start at \(NumberFormat.compact(options.start!)) s" : nil
        var writerOptions = VideoWriterOptions(width: outW, height: outH, gop: max(1, Int(info.frameRate.rounded())),
                                               codec: .h264, quality: options.quality,
                                               audioSource: copyAudio ? video : nil)
        writerOptions.frameRateNumerator = rate.0
        writerOptions.frameRateDenominator = rate.1
        let writer = try VideoWriter(url: output, options: writerOptions)

        var decodeOptions = DecodeOptions(selection: .all, width: panelW, height: panelH)
        decodeOptions.start = options.start
        decodeOptions.end = options.end
        decodeOptions.maxFrames = options.maxFrames
        var pending: [[UInt8]] = []
        var frames = 0
        var psnrSum = 0.0
        let background: UInt8 = 16

        func flush() throws {
            guard !pending.isEmpty else { return }
            let n = pending.count
            let plane = frameWidth * frameHeight
            var values = [Float](repeating: 0, count: n * 3 * plane)
            var smallOriginals: [[UInt8]] = []
            for (i, panel) in pending.enumerated() {
                let small = ClipReconstruction.boxDownscale(panel, width: panelW, height: panelH, factor: options.scale)
                smallOriginals.append(small)
                for p in 0..<plane {
                    for c in 0..<3 { values[(i * 3 + c) * plane + p] = 2 * Float(small[p * 3 + c]) / 255 - 1 }
                }
            }
            let recon = model.reconstruct(Tensor(shape: [n, 3, frameHeight, frameWidth], values: values))
            for i in 0..<n {
                let image = pngImage(recon, index: i)
                psnrSum += ClipReconstruction.psnr(smallOriginals[i], image.pixels)
                var out = [UInt8](repeating: background, count: outW * outH * 3)
                ClipReconstruction.paste(pending[i], width: panelW, height: panelH, into: &out, outWidth: outW, x: 0, factor: 1)
                ClipReconstruction.paste(image.pixels, width: frameWidth, height: frameHeight, into: &out, outWidth: outW,
                                         x: panelW + gap, factor: options.scale)
                try writer.append(rgb: out)
            }
            frames += n
            pending.removeAll(keepingCapacity: true)
            progress?(frames)
        }

        do {
            _ = try decoder.decode(decodeOptions) { frame in
                pending.append(Array(frame.rgb))
                if pending.count == options.batch { try flush() }
            }
            try flush()
        } catch {
            writer.cancel()
            throw error
        }
        guard frames > 0 else {
            writer.cancel()
            throw ReportError.unreadable(video.path, reason: "no frames decoded in the requested range")
        }
        let written = try writer.finish()
        return Result(output: written.url, frames: frames, width: outW, height: outH, frameRate: info.frameRate,
                      audioPackets: written.audioPackets, audioNote: audioNote, meanPSNR: psnrSum / Double(frames),
                      seconds: Date().timeIntervalSince(began))
    }

    /// Averages `factor` x `factor` blocks: RGB24 (width x height) -> (width / factor x height / factor).
    static func boxDownscale(_ rgb: [UInt8], width: Int, height: Int, factor: Int) -> [UInt8] {
        if factor == 1 { return rgb }
        let w = width / factor, h = height / factor
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let area = factor * factor
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<factor {
                        let row = ((y * factor + dy) * width + x * factor) * 3 + c
                        for dx in 0..<factor { sum += Int(rgb[row + dx * 3]) }
                    }
                    out[(y * w + x) * 3 + c] = UInt8((sum + area / 2) / area)
                }
            }
        }
        return out
    }

    /// Copies RGB24 `source` (width x height), enlarged `factor` times by pixel replication, into
    /// `out` (outWidth wide) at column `x`, row 0.
    static func paste(_ source: [UInt8], width: Int, height: Int, into out: inout [UInt8], outWidth: Int, x: Int, factor: Int) {
        for y in 0..<height * factor {
            let sy = y / factor
            for col in 0..<width * factor {
                let s = (sy * width + col / factor) * 3
                let d = (y * outWidth + x + col) * 3
                out[d] = source[s]
                out[d + 1] = source[s + 1]
                out[d + 2] = source[s + 2]
            }
        }
    }

    /// PSNR in dB between two RGB24 images of the same size (peak 255); 99 for identical images.
    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var sum = 0.0
        for i in 0..<min(a.count, b.count) {
            let d = Double(a[i]) - Double(b[i])
            sum += d * d
        }
        let mse = sum / Double(max(1, min(a.count, b.count)))
        return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
    }

    /// A frame rate as a fraction: 30000/1001 for 29.97, 30/1 for 30, else thousandths.
    static func rational(_ fps: Double) -> (Int, Int) {
        guard fps.isFinite, fps > 0 else { return (30, 1) }
        if abs(fps - fps.rounded()) < 1e-3 { return (Int(fps.rounded()), 1) }
        let ntsc = fps * 1.001
        if abs(ntsc - ntsc.rounded()) < 1e-2 { return (Int(ntsc.rounded()) * 1000, 1001) }
        return (Int((fps * 1000).rounded()), 1000)
    }
}
