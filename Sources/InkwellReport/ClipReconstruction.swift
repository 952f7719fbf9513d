import Foundation
import InkwellEngine
import InkwellTraining
import InkwellVideo

/// The encode-decode video of a clip (`inkwell reconstruct`, the export stage): every frame of the
/// input is made exactly as `inkwell ingest` makes dataset frames (swscale's area filter straight
/// to the model's frame size, stretched), encoded to its posterior mean and decoded. The output
/// shows the original (left) beside the reconstruction (right), each enlarged `scale` times (the
/// left panel is a second conversion of the decoded picture at the panel size; the right one the
/// reconstruction's pixels repeated), as an H.264 MP4 through libavcodec, with the input's first
/// audio stream copied (no audio in, none out; none either when `start` cuts the beginning, as the
/// copy cannot be cut). `scale` changes only what is shown: the model's input and the PSNR are
/// the same at every scale.
///
/// The model is loaded and checked before anything is decoded, so a missing, corrupt or
/// mismatched model is one clear error and no output file is created.
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
        /// Mean PSNR (dB) of the reconstructions against the frames the model saw (the same at
        /// every `scale`).
        public var meanPSNR: Double
        public var seconds: Double
    }

    public let model: VAEGAN
    /// What the model was loaded from.
    public let source: URL
    /// The model's frame size.
    public let frameWidth: Int
    public let frameHeight: Int

    /// Loads the model at `model`: a run directory (its latest checkpoint), a checkpoint folder or
    /// a bare `.safetensors` state dict (`LoadedModel`). Throws a one-line error naming it and the
    /// reason.
    public init(model source: URL) throws {
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw ReportError.missing(source.path, reason: "no such model")
        }
        do {
            model = try VAEGAN.load(source)
        } catch let error as TrainingError {
            throw ReportError.unreadable(source.path, reason: "cannot load the model: \(error)")
        }
        self.source = source
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

        // Ingest's scaling (IngestOptions' defaults): the area filter, stretched to the frame size.
        var decodeOptions = DecodeOptions(selection: .all, width: frameWidth, height: frameHeight, scaler: .area, aspect: .stretch)
        if options.scale > 1 { decodeOptions.display = PixelSize(width: panelW, height: panelH) }
        decodeOptions.start = options.start
        decodeOptions.end = options.end
        decodeOptions.maxFrames = options.maxFrames
        var pending: [(frame: [UInt8], panel: [UInt8])] = []
        var frames = 0
        var psnrSum = 0.0
        let background: UInt8 = 16

        func flush() throws {
            guard !pending.isEmpty else { return }
            let recon = model.reconstruct(Inference.modelInput(pending.map { $0.frame }, width: frameWidth, height: frameHeight))
            for (i, item) in pending.enumerated() {
                let image = pngImage(recon, index: i)
                psnrSum += ClipReconstruction.psnr(item.frame, image.pixels)
                var out = [UInt8](repeating: background, count: outW * outH * 3)
                ClipReconstruction.paste(item.panel, width: panelW, height: panelH, into: &out, outWidth: outW, x: 0, factor: 1)
                ClipReconstruction.paste(image.pixels, width: frameWidth, height: frameHeight, into: &out, outWidth: outW,
                                         x: panelW + gap, factor: options.scale)
                try writer.append(rgb: out)
            }
            frames += pending.count
            pending.removeAll(keepingCapacity: true)
            progress?(frames)
        }

        do {
            _ = try decoder.decode(decodeOptions) { frame in
                let small = Array(frame.rgb)
                pending.append((small, frame.display.map { Array($0) } ?? small))
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
