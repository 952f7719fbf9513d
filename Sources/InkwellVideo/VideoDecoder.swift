import CFFmpeg
import Foundation

/// Facts about a video file, read when it is opened.
public struct VideoInfo: Sendable, Codable, Equatable {
    /// Container format name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
    public var container: String
    /// Video codec name, e.g. "h264", "vp8".
    public var codec: String
    /// Coded width and height (before rotation).
    public var width: Int
    public var height: Int
    /// Duration in seconds (0 when unknown).
    public var duration: Double
    /// Average frame rate (0 when unknown).
    public var frameRate: Double
    /// Clockwise rotation applied for display: 0, 90, 180 or 270.
    public var rotation: Int
    /// The stream's frame count from the container, when it records one.
    public var frameCountHint: Int?
    /// Pixel format name.
    public var pixelFormat: String
    /// Sample aspect ratio (1 for square pixels).
    public var sampleAspectRatio: Double
    /// Codec of the first audio stream, nil when the file has no audio.
    public var audioCodec: String?

    /// Whether the file has an audio stream.
    public var hasAudio: Bool { audioCodec != nil }
}

/// Which frames a decode takes.
public enum FrameSelection: Sendable, Equatable, Codable {
    /// Key frames only: the decoder skips non-key frames (`-skip_frame nokey`).
    case keyFrames
    /// N frames per second by presentation time: the first frame at or after each tick
    /// `start + k / fps`, k = 0, 1, 2, ...
    case fps(Double)
    /// Every frame.
    case all
}

/// What to decode and how to convert it.
public struct DecodeOptions: Sendable, Equatable {
    public var selection: FrameSelection
    /// Output size (display orientation), RGB24.
    public var width: Int
    public var height: Int
    public var scaler: Scaler
    public var aspect: AspectMode
    /// The part of each decoded picture to keep before scaling (nil: all of it).
    public var crop: CropRectangle?
    /// Seconds from the start of the video; frames before it are dropped (the decoder seeks there).
    public var start: Double?
    /// Seconds from the start of the video; frames at or after it are not taken.
    public var end: Double?
    /// Take at most this many frames (the first ones selected).
    public var maxFrames: Int?
    /// Decoder threads (0: libavcodec chooses, by core count).
    public var threads: Int
    /// In key-frame mode, also drop packets not flagged as key before they reach the decoder.
    public var skipNonKeyPackets: Bool
    /// Apply the display-matrix rotation.
    public var autoRotate: Bool
    /// Skip the in-loop deblocking filter (H.264 / HEVC / VP8 `skip_loop_filter`): faster, and
    /// after downscaling the frames differ from a full decode by a fraction of a grey level;
    /// off by default. Only for key-frame mode, where no later frame predicts from them.
    public var skipLoopFilter: Bool = false
    /// A second size to convert each frame to, from the decoded picture with the same filter and
    /// aspect (`DecodedFrame.display`): a large view of the frame beside the frame itself, which
    /// stays exactly what a decode at `width` x `height` alone gives.
    public var display: PixelSize?

    public init(selection: FrameSelection = .keyFrames, width: Int = 121, height: Int = 65,
                scaler: Scaler = .area, aspect: AspectMode = .stretch, start: Double? = nil,
                end: Double? = nil, maxFrames: Int? = nil, threads: Int = 0,
                skipNonKeyPackets: Bool = true, autoRotate: Bool = true) {
        self.selection = selection
        self.width = width
        self.height = height
        self.scaler = scaler
        self.aspect = aspect
        self.start = start
        self.end = end
        self.maxFrames = maxFrames
        self.threads = threads
        self.skipNonKeyPackets = skipNonKeyPackets
        self.autoRotate = autoRotate
    }
}

/// A width and height in pixels.
public struct PixelSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

/// One converted frame, valid only during the callback that receives it.
public struct DecodedFrame {
    /// Packed RGB24, `width * height * 3` bytes, rows top to bottom.
    public let rgb: UnsafeBufferPointer<UInt8>
    /// The frame at `DecodeOptions.display`'s size (packed RGB24), when one was asked for.
    public var display: UnsafeBufferPointer<UInt8>?
    public let width: Int
    public let height: Int
    /// Presentation time in seconds from the start of the stream (its first timestamp).
    public let timestamp: Double
    /// Whether the decoder flagged the frame as a key frame.
    public let isKeyFrame: Bool
    /// Index of this frame among the frames taken (0, 1, ...).
    public let index: Int
}

/// Counters from one decode.
public struct DecodeStats: Sendable, Equatable, Codable {
    /// Frames the decoder returned.
    public var framesDecoded = 0
    /// Frames selected, converted and handed to the callback.
    public var framesTaken = 0
    /// Packets read from the container for the video stream.
    public var packetsRead = 0
    /// Video packets not sent to the decoder (non-key packets in key-frame mode).
    public var packetsSkipped = 0
    /// Error events from the demuxer or the decoder (damaged data): failed reads, refused packets,
    /// and error-level messages they logged (a demuxer that resynchronises past damage only logs).
    /// One damaged packet may count more than once. Decoding continues past them.
    public var decodeErrors = 0
    /// Frames the decoder flagged as corrupt (still taken).
    public var corruptFrames = 0
    public init() {}
}

/// Decodes one video file in-process through libavformat / libavcodec / libswscale.
public final class VideoDecoder {
    public let url: URL
    public let info: VideoInfo
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private let streamIndex: Int32
    private let decoder: UnsafePointer<AVCodec>
    private var hasDecoded = false

    /// Opens `url` and finds its video stream. Throws a `VideoError` naming the file and reason.
    public init(url: URL) throws {
        FFmpegLog.ensureConfigured()
        self.url = url
        let path = url.path
        try Self.checkReadable(path)

        var fc: UnsafeMutablePointer<AVFormatContext>?
        var ret = avformat_open_input(&fc, path, nil, nil)
        guard ret >= 0, let fmt = fc else {
            throw VideoError(.notMedia, path: path, reason: FileSniffer.explainUnreadable(path: path, ffmpegMessage: ffmpegErrorString(ret)))
        }
        var ok = false
        defer { if !ok { avformat_close_input(&fc) } }

        ret = avformat_find_stream_info(fmt, nil)
        guard ret >= 0 else {
            throw VideoError(.notMedia, path: path, reason: FileSniffer.explainUnreadable(
                path: path, ffmpegMessage: "cannot read stream information: \(ffmpegErrorString(ret))"))
        }
        if inkwell_format_is_image(fmt) != 0 {
            throw VideoError(.stillImage, path: path, reason: "a still image, not a video")
        }
        let index = try Self.videoStreamIndex(fmt, path: path)
        streamIndex = index
        let stream = fmt.pointee.streams[Int(index)]!
        let par = stream.pointee.codecpar!
        let codecName = String(cString: avcodec_get_name(par.pointee.codec_id))
        guard let dec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw VideoError(.unsupportedCodec, path: path, reason: "no decoder for video codec \(codecName)")
        }
        decoder = dec
        guard par.pointee.width > 0, par.pointee.height > 0 else {
            throw VideoError(.notMedia, path: path, reason: "video stream has no picture size (damaged header?)")
        }
        info = Self.describe(fmt, stream: stream, codecName: codecName)
        format = fmt
        ok = true
    }

    /// Throws unless `path` is a readable, non-empty file.
    private static func checkReadable(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw VideoError(.notFound, path: path, reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw VideoError(.notReadable, path: path, reason: "is a directory")
        }
        guard access(path, R_OK) == 0 else {
            throw VideoError(.notReadable, path: path, reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        if st.st_size == 0 {
            throw VideoError(.emptyFile, path: path, reason: "empty file (0 bytes)")
        }
    }

    /// The video stream to decode: FFmpeg's best video stream unless it is an attached picture
    /// (cover art), else the first video stream that is not. Throws naming the streams there are.
    private static func videoStreamIndex(_ fmt: UnsafeMutablePointer<AVFormatContext>, path: String) throws -> Int32 {
        var index: Int32 = -1
        for i in 0..<Int(fmt.pointee.nb_streams) {
            let s = fmt.pointee.streams[i]!
            if s.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO,
               (s.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) == 0 {
                if index < 0 { index = Int32(i) }
            }
        }
        if index >= 0 {
            let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
            if best >= 0, (fmt.pointee.streams[Int(best)]!.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) == 0 {
                index = best
            }
        }
        guard index >= 0 else {
            let kinds = (0..<Int(fmt.pointee.nb_streams)).map {
                av_get_media_type_string(fmt.pointee.streams[$0]!.pointee.codecpar.pointee.codec_type).map { String(cString: $0) } ?? "unknown"
            }
            if kinds.isEmpty {
                throw VideoError(.notMedia, path: path, reason: FileSniffer.explainUnreadable(path: path, ffmpegMessage: "no streams"))
            }
            let only = Set(kinds) == ["audio"] ? "an audio-only file" : "no video stream"
            throw VideoError(.noVideoStream, path: path, reason: "\(only) (streams: \(kinds.joined(separator: ", ")))")
        }
        return index
    }

    /// What the container says of the video stream: size, duration, rate, display rotation,
    /// pixel format and the audio codec beside it.
    private static func describe(_ fmt: UnsafeMutablePointer<AVFormatContext>, stream: UnsafeMutablePointer<AVStream>,
                                 codecName: String) -> VideoInfo {
        let par = stream.pointee.codecpar!
        let tb = stream.pointee.time_base
        var duration = 0.0
        if stream.pointee.duration != inkwell_nopts_value(), stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * av_q2d(tb)
        } else if fmt.pointee.duration != inkwell_nopts_value(), fmt.pointee.duration > 0 {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
        }
        var rate = av_q2d(stream.pointee.avg_frame_rate)
        if !(rate > 0) || !rate.isFinite { rate = av_q2d(stream.pointee.r_frame_rate) }
        if !(rate > 0) || !rate.isFinite { rate = 0 }
        var rotation = 0
        let theta = inkwell_stream_rotation(stream)
        if !theta.isNaN {
            // av_display_rotation_get is counter-clockwise; display needs the clockwise turn.
            var r = (-theta).truncatingRemainder(dividingBy: 360)
            if r < 0 { r += 360 }
            rotation = (Int((r / 90).rounded()) * 90) % 360
        }
        let audioIndex = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        let sarQ = par.pointee.sample_aspect_ratio
        let sar = sarQ.num > 0 && sarQ.den > 0 ? Double(sarQ.num) / Double(sarQ.den) : 1
        let pixName = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.pointee.format)).map { String(cString: $0) } ?? "unknown"
        return VideoInfo(
            container: String(cString: fmt.pointee.iformat.pointee.name),
            codec: codecName,
            width: Int(par.pointee.width), height: Int(par.pointee.height),
            duration: duration, frameRate: rate, rotation: rotation,
            frameCountHint: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            pixelFormat: pixName, sampleAspectRatio: sar,
            audioCodec: audioIndex >= 0
                ? String(cString: avcodec_get_name(fmt.pointee.streams[Int(audioIndex)]!.pointee.codecpar.pointee.codec_id))
                : nil)
    }

    deinit {
        avformat_close_input(&format)
    }

    /// Decodes the frames `options` selects, converting each to RGB24 at the target size and
    /// passing it to `body` (in presentation order). Damaged data is counted in
    /// `DecodeStats.decodeErrors` and skipped; frames before and after it are still taken.
    @discardableResult
    public func decode(_ options: DecodeOptions, _ body: (DecodedFrame) throws -> Void) throws -> DecodeStats {
        let path = url.path
        guard let fmt = format else { throw VideoError(.decodeFailed, path: path, reason: "decoder closed") }
        guard options.width > 0, options.height > 0 else {
            throw VideoError(.decodeFailed, path: path, reason: "invalid output size \(options.width)x\(options.height)")
        }
        let stream = fmt.pointee.streams[Int(streamIndex)]!
        // Error messages of the demuxer and decoder are counted here (see inkwell_log_callback);
        // freed after the codec context (and its threads) below.
        let loggedErrors = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        loggedErrors.initialize(to: 0)
        defer {
            fmt.pointee.opaque = nil
            loggedErrors.deallocate()
        }
        var ctxOpt: UnsafeMutablePointer<AVCodecContext>? = try openCodec(for: stream, in: fmt, options: options, loggedErrors: loggedErrors)
        defer { avcodec_free_context(&ctxOpt) }
        let ctx = ctxOpt!

        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame) }
        guard let pkt = packet, let frm = frame else {
            throw VideoError(.decodeFailed, path: path, reason: "out of memory")
        }

        let startPTS = stream.pointee.start_time != inkwell_nopts_value() ? stream.pointee.start_time : 0
        let start = max(0, options.start ?? 0)
        if start > 0 || hasDecoded { seek(fmt, to: start, startPTS: startPTS, timeBase: av_q2d(stream.pointee.time_base)) }
        hasDecoded = true
        if let crop = options.crop, !crop.fits(width: info.width, height: info.height) {
            throw VideoError(.badCrop, path: path, reason: crop.outside(width: info.width, height: info.height))
        }
        var pass = DecodePass(options: options, info: info, timeBase: av_q2d(stream.pointee.time_base), startPTS: startPTS, start: start)
        var consecutiveReadErrors = 0
        while !pass.done {
            let r = av_read_frame(fmt, pkt)
            if r == DecodePass.eof { break }
            if r < 0 {
                pass.stats.decodeErrors += 1
                consecutiveReadErrors += 1
                if consecutiveReadErrors >= 16 || (fmt.pointee.pb != nil && avio_feof(fmt.pointee.pb) != 0) { break }
                continue
            }
            consecutiveReadErrors = 0
            defer { av_packet_unref(pkt) }
            guard pkt.pointee.stream_index == streamIndex else { continue }
            pass.stats.packetsRead += 1
            if pass.keyOnly && options.skipNonKeyPackets && (pkt.pointee.flags & AV_PKT_FLAG_KEY) == 0 {
                pass.stats.packetsSkipped += 1
                continue
            }
            let s = avcodec_send_packet(ctx, pkt)
            if s < 0 && s != DecodePass.eagain && s != DecodePass.eof { pass.stats.decodeErrors += 1 }
            try pass.drain(ctx, frm, body)
        }
        if !pass.done {
            _ = avcodec_send_packet(ctx, nil)
            try pass.drain(ctx, frm, body)
        }
        pass.stats.decodeErrors += Int(inkwell_counter_load(loggedErrors))
        return pass.stats
    }

    /// A decoder context for the video stream, opened with the pass's threads and key-frame
    /// skipping, its errors counted in `loggedErrors`.
    private func openCodec(for stream: UnsafeMutablePointer<AVStream>, in fmt: UnsafeMutablePointer<AVFormatContext>,
                           options: DecodeOptions, loggedErrors: UnsafeMutablePointer<Int64>) throws -> UnsafeMutablePointer<AVCodecContext> {
        let path = url.path
        guard let ctx = avcodec_alloc_context3(decoder) else {
            throw VideoError(.decodeFailed, path: path, reason: "out of memory")
        }
        var opened = false
        defer {
            if !opened { var ctxOpt: UnsafeMutablePointer<AVCodecContext>? = ctx; avcodec_free_context(&ctxOpt) }
        }
        var ret = avcodec_parameters_to_context(ctx, stream.pointee.codecpar)
        guard ret >= 0 else { throw VideoError(.decodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.opaque = UnsafeMutableRawPointer(loggedErrors)
        fmt.pointee.opaque = UnsafeMutableRawPointer(loggedErrors)
        ctx.pointee.thread_count = Int32(max(0, options.threads))
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        let keyOnly = options.selection == .keyFrames
        if keyOnly { ctx.pointee.skip_frame = AVDISCARD_NONKEY }
        if keyOnly && options.skipLoopFilter { ctx.pointee.skip_loop_filter = AVDISCARD_ALL }
        ret = avcodec_open2(ctx, decoder, nil)
        guard ret >= 0 else {
            throw VideoError(.unsupportedCodec, path: path, reason: "cannot open \(info.codec) decoder (\(ffmpegErrorString(ret)))")
        }
        opened = true
        return ctx
    }

    /// Seeks to the key frame at or before `start` (or back to the beginning for a second decode
    /// of the same file).
    private func seek(_ fmt: UnsafeMutablePointer<AVFormatContext>, to start: Double, startPTS: Int64, timeBase tb: Double) {
        let target = startPTS + Int64(start / tb)
        if av_seek_frame(fmt, streamIndex, target, AVSEEK_FLAG_BACKWARD) < 0,
           av_seek_frame(fmt, streamIndex, startPTS, AVSEEK_FLAG_BACKWARD) < 0,
           fmt.pointee.pb != nil {
            _ = avio_seek(fmt.pointee.pb, 0, SEEK_SET)
            _ = avformat_flush(fmt)
        }
    }
}

/// One decode pass: which decoded frames it takes (key frames, all, or N per second between
/// start and end), their conversion to RGB24, and its counts.
private struct DecodePass {
    static let eagain = inkwell_averror_eagain()
    static let eof = inkwell_averror_eof()

    let options: DecodeOptions
    let keyOnly: Bool
    let timeBase: Double
    let startPTS: Int64
    let start: Double
    /// Seconds between frames at the stream's rate (0 when unknown): the time of a frame without one.
    let frameStep: Double
    let converter: FrameConverter
    let displayConverter: FrameConverter?
    var stats = DecodeStats()
    var nextTick: Double
    var lastTime = -Double.infinity
    var done = false

    init(options: DecodeOptions, info: VideoInfo, timeBase: Double, startPTS: Int64, start: Double) {
        self.options = options
        keyOnly = options.selection == .keyFrames
        self.timeBase = timeBase
        self.startPTS = startPTS
        self.start = start
        frameStep = info.frameRate > 0 ? 1 / info.frameRate : 0
        converter = FrameConverter(width: options.width, height: options.height, scaler: options.scaler,
                                   aspect: options.aspect, rotation: options.autoRotate ? info.rotation : 0)
        displayConverter = options.display.map {
            FrameConverter(width: $0.width, height: $0.height, scaler: options.scaler, aspect: options.aspect,
                           rotation: options.autoRotate ? info.rotation : 0)
        }
        nextTick = start
    }

    /// Receives every frame the decoder has ready, passing those the pass takes to `body`.
    mutating func drain(_ ctx: UnsafeMutablePointer<AVCodecContext>, _ frm: UnsafeMutablePointer<AVFrame>,
                        _ body: (DecodedFrame) throws -> Void) throws {
        while !done {
            let r = avcodec_receive_frame(ctx, frm)
            if r == Self.eagain || r == Self.eof { return }
            if r < 0 { stats.decodeErrors += 1; return }
            defer { av_frame_unref(frm) }
            try take(frm, body)
        }
    }

    /// Counts a decoded frame and, when the selection takes it, converts it and passes it to `body`.
    private mutating func take(_ frm: UnsafeMutablePointer<AVFrame>, _ body: (DecodedFrame) throws -> Void) throws {
        stats.framesDecoded += 1
        let isKey = inkwell_frame_is_key(frm) != 0
        let t = time(of: frm)
        if inkwell_frame_is_corrupt(frm) != 0 { stats.corruptFrames += 1 }
        guard selects(time: t, isKey: isKey) else { return }
        do {
            if let crop = options.crop { try FrameConverter.apply(crop, to: frm) }
            try converter.convert(frm)
            try displayConverter?.convert(frm)
        } catch {
            stats.decodeErrors += 1
            return
        }
        try converter.output.withUnsafeBufferPointer { rgb in
            var frame = DecodedFrame(rgb: rgb, width: options.width, height: options.height,
                                     timestamp: t, isKeyFrame: isKey, index: stats.framesTaken)
            guard let displayConverter else { return try body(frame) }
            try displayConverter.output.withUnsafeBufferPointer { view in
                frame.display = view
                try body(frame)
            }
        }
        stats.framesTaken += 1
        if let cap = options.maxFrames, stats.framesTaken >= cap { done = true }
    }

    /// Seconds from the stream's start: the frame's timestamp, else one frame after the last.
    private mutating func time(of frm: UnsafeMutablePointer<AVFrame>) -> Double {
        var pts = frm.pointee.best_effort_timestamp
        if pts == inkwell_nopts_value() { pts = frm.pointee.pts }
        var t: Double
        if pts == inkwell_nopts_value() {
            t = lastTime.isFinite ? lastTime + frameStep : 0
        } else {
            t = Double(pts - startPTS) * timeBase
        }
        if t.magnitude < 1e-9 { t = 0 }
        lastTime = t
        return t
    }

    /// Whether the pass takes a frame at `t`; past `end`, the pass is done.
    private mutating func selects(time t: Double, isKey: Bool) -> Bool {
        if keyOnly && !isKey { return false }
        if t < start - 1e-6 { return false }
        if let end = options.end, t >= end - 1e-9 { done = true; return false }
        switch options.selection {
        case .keyFrames, .all:
            return true
        case .fps(let rate):
            if t < nextTick - 1e-6 { return false }
            let k = ((t - start) * rate + 1e-6).rounded(.down)
            nextTick = start + (k + 1) / rate
            return true
        }
    }
}
