import CFFmpeg
import Foundation

/// A video codec that `VideoWriter` can encode with, each through libavcodec.
public enum VideoCodec: String, CaseIterable, Sendable, Codable {
    /// H.264 (libx264 when the library has it, else libavcodec's own H.264 encoder if any).
    case h264
    /// MPEG-4 Part 2 (libavcodec's `mpeg4`).
    case mpeg4
    /// VP8 (libvpx).
    case vp8
    /// FFV1, lossless (for tests that need exact pixels).
    case ffv1

    /// Encoder names tried in order.
    var encoderNames: [String] {
        switch self {
        case .h264: return ["libx264", "h264"]
        case .mpeg4: return ["mpeg4"]
        case .vp8: return ["libvpx", "libvpx-vp8"]
        case .ffv1: return ["ffv1"]
        }
    }

    /// Whether libavcodec in this process has an encoder for the codec.
    public var isAvailable: Bool {
        encoderNames.contains { avcodec_find_encoder_by_name($0) != nil }
    }
}

/// How a `VideoWriter` encodes: codec, size, rate, key-frame interval, quality, rotation, and
/// an optional audio stream copied from another file.
public struct VideoWriterOptions: Sendable {
    /// Frame width and height in pixels (H.264, MPEG-4 and VP8 need even sizes: 4:2:0 chroma).
    public var width: Int
    public var height: Int
    /// Frames per second as a fraction `num / den` (default 30 / 1).
    public var frameRateNumerator: Int
    public var frameRateDenominator: Int
    /// Key-frame interval (GOP size): frame `i` is a key frame exactly when `i % gop == 0`
    /// (scene-cut detection is off). Default 15.
    public var gop: Int
    public var codec: VideoCodec
    /// Quality: for H.264 the CRF (default 20, lower is better); for VP8 the CRF too
    /// (with a bit-rate ceiling); for MPEG-4 a fixed quantiser scale derived from it.
    public var quality: Int
    /// libx264 preset (default "veryfast").
    public var preset: String
    /// Encoder threads (0: libavcodec chooses).
    public var threads: Int
    /// Display rotation written as the stream's display matrix, clockwise degrees (0, 90, 180, 270).
    public var rotation: Int
    /// Copy the first audio stream of this file into the output (packets remuxed, not
    /// re-encoded), up to the end of the video. Nil: no audio, unless audio is appended with
    /// `appendAudio` (see `generatedAudio`).
    public var audioSource: URL?
    /// Encode an audio stream from samples given to `VideoWriter.appendAudio(_:)` (mono Float,
    /// this many samples per second; AAC in MP4/MKV/MOV, Vorbis or Opus in WebM). Nil: none.
    public var generatedAudioSampleRate: Int?

    public init(width: Int, height: Int, frameRate: Int = 30, gop: Int = 15, codec: VideoCodec = .h264,
                quality: Int = 20, preset: String = "veryfast", threads: Int = 0, rotation: Int = 0,
                audioSource: URL? = nil, generatedAudioSampleRate: Int? = nil) {
        self.width = width
        self.height = height
        self.frameRateNumerator = frameRate
        self.frameRateDenominator = 1
        self.gop = gop
        self.codec = codec
        self.quality = quality
        self.preset = preset
        self.threads = threads
        self.rotation = rotation
        self.audioSource = audioSource
        self.generatedAudioSampleRate = generatedAudioSampleRate
    }

    /// Frames per second as a Double.
    public var frameRate: Double { Double(frameRateNumerator) / Double(frameRateDenominator) }
}

/// What a finished `VideoWriter` wrote.
public struct VideoWriterResult: Sendable, Equatable {
    public var url: URL
    public var framesWritten: Int
    /// Frames encoded as key frames (packets flagged key).
    public var keyFrames: Int
    /// Audio packets written (copied or encoded); 0 when the output has no audio.
    public var audioPackets: Int
    public var bytes: Int
}

/// Encodes packed RGB24 frames into a video file through libavcodec and libavformat.
///
/// The container follows the file extension (`.mp4`, `.mkv`, `.webm`, `.mov`, `.avi`); the file
/// is written under a temporary name in the same folder and renamed into place by `finish()`, so
/// a reader never sees a half-written video. Frame `i` has presentation time `i / frameRate`.
///
///     let writer = try VideoWriter(url: out, options: .init(width: 320, height: 180, gop: 15))
///     for frame in frames { try writer.append(rgb: frame) }   // width * height * 3 bytes each
///     let result = try writer.finish()
///
/// A writer dropped without `finish()` (or after `cancel()`) removes its temporary file: nothing
/// appears at `url`. One writer is used from one thread at a time.
public final class VideoWriter {
    public let url: URL
    public let options: VideoWriterOptions
    public let temporaryURL: URL

    private var oc: UnsafeMutablePointer<AVFormatContext>?
    private var enc: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>!
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var sws: OpaquePointer?
    /// The RGB24 input, copied into padded rows (see `append`).
    private var paddedInput: PaddedRGBRows?
    private var frameIndex: Int64 = 0
    private var keyFrames = 0
    private var finished = false

    // Copied audio.
    private var audioIn: UnsafeMutablePointer<AVFormatContext>?
    private var audioInIndex: Int32 = -1
    private var audioOutStream: UnsafeMutablePointer<AVStream>?
    private var audioPackets = 0
    private var audioInputDone = false
    private var audioFirstPTS: Int64 = 0
    private var audioPending: UnsafeMutablePointer<AVPacket>?
    private var audioHasPending = false

    // Encoded audio.
    private var audioEncoder: AudioStreamEncoder?

    /// Opens the output (under its temporary name) and writes the header.
    /// Throws `VideoError` (.encodeFailed / .writeFailed / .notMedia for a bad audio source).
    public init(url: URL, options: VideoWriterOptions) throws {
        FFmpegLog.ensureConfigured()
        self.url = url
        self.options = options
        let path = url.path
        let ext = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).partial-\(getpid())-\(UUID().uuidString.prefix(8)).\(ext)")
        let tmpPath = temporaryURL.path
        let codec = try Self.encoder(for: options, path: path)

        var ocOpt: UnsafeMutablePointer<AVFormatContext>?
        let guessed = av_guess_format(nil, "x.\(ext)", nil)
        guard guessed != nil else {
            throw VideoError(.encodeFailed, path: path, reason: "unknown container for extension .\(ext)")
        }
        var ret = avformat_alloc_output_context2(&ocOpt, guessed, nil, tmpPath)
        guard ret >= 0, let oc = ocOpt else {
            throw VideoError(.encodeFailed, path: path, reason: "cannot create container (\(ffmpegErrorString(ret)))")
        }
        self.oc = oc
        var cleanup = true
        defer {
            // On a throw, free what was made (deinit still runs: `finished` stops a second free).
            if cleanup {
                release()
                unlink(tmpPath)
                finished = true
            }
        }

        try openVideoStream(codec: codec, in: oc, path: path)
        if let src = options.audioSource {
            try openAudioSource(src, into: oc)
        } else if let rate = options.generatedAudioSampleRate {
            audioEncoder = try AudioStreamEncoder(format: oc, sampleRate: rate, path: path)
        }
        ret = avio_open(&oc.pointee.pb, tmpPath, AVIO_FLAG_WRITE)
        guard ret >= 0 else {
            throw VideoError(.writeFailed, path: path, reason: "cannot create \(tmpPath) (\(ffmpegErrorString(ret)))")
        }
        ret = avformat_write_header(oc, nil)
        guard ret >= 0 else {
            throw VideoError(.writeFailed, path: path, reason: "cannot write header (\(ffmpegErrorString(ret)))")
        }
        try allocateFrameAndConverter(path: path)
        cleanup = false
    }

    /// The encoder for `options`, after checking the frame size, rate and key-frame interval.
    private static func encoder(for options: VideoWriterOptions, path: String) throws -> UnsafePointer<AVCodec> {
        guard options.width > 0, options.height > 0 else {
            throw VideoError(.encodeFailed, path: path, reason: "invalid frame size \(options.width)x\(options.height)")
        }
        if options.codec != .ffv1, options.width % 2 != 0 || options.height % 2 != 0 {
            throw VideoError(.encodeFailed, path: path,
                             reason: "\(options.codec.rawValue) needs an even frame size, got \(options.width)x\(options.height)")
        }
        guard options.frameRateNumerator > 0, options.frameRateDenominator > 0, options.gop > 0 else {
            throw VideoError(.encodeFailed, path: path, reason: "frame rate and key-frame interval must be positive")
        }
        guard let codec = options.codec.encoderNames.lazy.compactMap({ avcodec_find_encoder_by_name($0) }).first else {
            throw VideoError(.encodeFailed, path: path, reason: "this FFmpeg build has no \(options.codec.rawValue) encoder")
        }
        return codec
    }

    /// Adds the video stream to `oc` and opens its encoder (`stream`, `enc`).
    private func openVideoStream(codec: UnsafePointer<AVCodec>, in oc: UnsafeMutablePointer<AVFormatContext>, path: String) throws {
        guard let st = avformat_new_stream(oc, nil) else {
            throw VideoError(.encodeFailed, path: path, reason: "out of memory")
        }
        stream = st
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw VideoError(.encodeFailed, path: path, reason: "out of memory")
        }
        enc = ctx
        configureEncoder(ctx, codecName: String(cString: codec.pointee.name))
        try openEncoder(ctx, codec, stream: st, format: oc, what: "\(String(cString: codec.pointee.name)) encoder", path: path)
        st.pointee.avg_frame_rate = ctx.pointee.framerate
        if options.rotation % 360 != 0 {
            // FFmpeg 5.1's av_display_rotation_set turns clockwise (av_display_rotation_get reports
            // counter-clockwise), so a clockwise display turn is passed as is; the decoder reads it
            // back as ffmpeg's autorotation does (clockwise = -av_display_rotation_get).
            let ret = inkwell_stream_set_rotation(st, Double(options.rotation))
            guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        }
    }

    /// The encoder's size, rate, key-frame interval, colour description and codec settings.
    private func configureEncoder(_ ctx: UnsafeMutablePointer<AVCodecContext>, codecName: String) {
        ctx.pointee.width = Int32(options.width)
        ctx.pointee.height = Int32(options.height)
        ctx.pointee.time_base = AVRational(num: Int32(options.frameRateDenominator), den: Int32(options.frameRateNumerator))
        ctx.pointee.framerate = AVRational(num: Int32(options.frameRateNumerator), den: Int32(options.frameRateDenominator))
        ctx.pointee.gop_size = Int32(options.gop)
        ctx.pointee.keyint_min = Int32(options.gop)
        ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        ctx.pointee.thread_count = Int32(max(0, options.threads))
        ctx.pointee.color_range = AVCOL_RANGE_MPEG
        ctx.pointee.colorspace = AVCOL_SPC_BT470BG
        ctx.pointee.color_primaries = AVCOL_PRI_BT470BG
        ctx.pointee.color_trc = AVCOL_TRC_SMPTE170M
        switch options.codec {
        case .h264:
            if codecName == "libx264" {
                av_opt_set(ctx.pointee.priv_data, "preset", options.preset, 0)
                av_opt_set(ctx.pointee.priv_data, "crf", "\(options.quality)", 0)
                av_opt_set(ctx.pointee.priv_data, "x264-params", Self.x264Parameters, 0)
                av_opt_set(ctx.pointee.priv_data, "forced-idr", "1", 0)
            }
        case .mpeg4:
            ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
            ctx.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(max(1, min(31, options.quality / 5)))
            ctx.pointee.max_b_frames = 0
            av_opt_set_int(ctx.pointee.priv_data, "sc_threshold", 1_000_000_000, 0)
        case .vp8:
            ctx.pointee.bit_rate = Int64(options.width * options.height) * Int64(options.frameRate.rounded()) / 4
            av_opt_set(ctx.pointee.priv_data, "crf", "\(max(4, min(63, options.quality)))", 0)
            av_opt_set(ctx.pointee.priv_data, "deadline", "realtime", 0)
            av_opt_set_int(ctx.pointee.priv_data, "cpu-used", 8, 0)
        case .ffv1:
            break
        }
    }

    /// The reusable YUV frame and packet, the RGB24 to YUV420P converter and the padded input copy.
    private func allocateFrameAndConverter(path: String) throws {
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frm = frame, packet != nil else { throw VideoError(.encodeFailed, path: path, reason: "out of memory") }
        frm.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frm.pointee.width = Int32(options.width)
        frm.pointee.height = Int32(options.height)
        let ret = av_frame_get_buffer(frm, 0)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        // Zero the planes, padding included, so nothing the encoder might read is uninitialised.
        for buffer in [frm.pointee.buf.0, frm.pointee.buf.1, frm.pointee.buf.2, frm.pointee.buf.3] {
            if let b = buffer, let data = b.pointee.data { memset(data, 0, b.pointee.size) }
        }
        sws = sws_getContext(Int32(options.width), Int32(options.height), AV_PIX_FMT_RGB24,
                             Int32(options.width), Int32(options.height), AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil)
        guard sws != nil else { throw VideoError(.encodeFailed, path: path, reason: "swscale cannot convert RGB24 to YUV420P") }
        paddedInput = PaddedRGBRows(width: options.width, height: options.height)
    }

    deinit {
        if !finished { cancel() }
    }

    /// libx264's own parameters: no scene-cut key frames (key frames come every `gop` frames
    /// only), and, on a CPU with AVX-512, x264's AVX2 code rather than its AVX-512 code. The
    /// AVX-512 code gave different bytes for identical encodes in one process (an AMD EPYC,
    /// libx264 164: 37,403 vs 37,494 bytes for the same 60 frames, depending on what the process
    /// had done before); with AVX2 (and under valgrind) every encode gave the same bytes.
    static let x264Parameters: String = {
        let hasAVX512 = (av_get_cpu_flags() & AV_CPU_FLAG_AVX512) != 0
        return hasAVX512 ? "scenecut=0:asm=AVX2" : "scenecut=0"
    }()

    private func openAudioSource(_ src: URL, into oc: UnsafeMutablePointer<AVFormatContext>) throws {
        var ic: UnsafeMutablePointer<AVFormatContext>?
        var ret = avformat_open_input(&ic, src.path, nil, nil)
        guard ret >= 0, let input = ic else {
            throw VideoError(.notMedia, path: src.path, reason: "cannot open audio source (\(ffmpegErrorString(ret)))")
        }
        audioIn = input
        ret = avformat_find_stream_info(input, nil)
        guard ret >= 0 else {
            throw VideoError(.notMedia, path: src.path, reason: "cannot read stream information (\(ffmpegErrorString(ret)))")
        }
        let index = av_find_best_stream(input, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard index >= 0 else {
            // A source without audio gives an output without audio.
            avformat_close_input(&audioIn)
            return
        }
        let inStream = input.pointee.streams[Int(index)]!
        let codecID = inStream.pointee.codecpar.pointee.codec_id
        if avformat_query_codec(oc.pointee.oformat, codecID, FF_COMPLIANCE_NORMAL) != 1 {
            let name = String(cString: avcodec_get_name(codecID))
            let fmtName = String(cString: oc.pointee.oformat.pointee.name)
            throw VideoError(.encodeFailed, path: url.path, reason: "audio codec \(name) of \(src.lastPathComponent) cannot be copied into \(fmtName)")
        }
        guard let out = avformat_new_stream(oc, nil) else { throw VideoError(.encodeFailed, path: url.path, reason: "out of memory") }
        ret = avcodec_parameters_copy(out.pointee.codecpar, inStream.pointee.codecpar)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: url.path, reason: ffmpegErrorString(ret)) }
        out.pointee.codecpar.pointee.codec_tag = 0
        out.pointee.time_base = inStream.pointee.time_base
        audioInIndex = index
        audioOutStream = out
        audioFirstPTS = inStream.pointee.start_time != inkwell_nopts_value() ? inStream.pointee.start_time : 0
        audioPending = av_packet_alloc()
    }

    /// Appends one frame: packed RGB24, rows top to bottom, `width * height * 3` bytes.
    public func append(rgb: UnsafeBufferPointer<UInt8>) throws {
        guard !finished, let enc = enc, let frm = frame, let padded = paddedInput else {
            throw VideoError(.encodeFailed, path: url.path, reason: "writer already finished")
        }
        guard rgb.count >= options.width * options.height * 3, let base = rgb.baseAddress else {
            throw VideoError(.encodeFailed, path: url.path,
                             reason: "frame has \(rgb.count) bytes, expected \(options.width * options.height * 3) (\(options.width)x\(options.height) RGB24)")
        }
        var ret = av_frame_make_writable(frm)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: url.path, reason: ffmpegErrorString(ret)) }
        // swscale's SIMD code may read past the end of a row (and of the last row): copy the frame
        // into padded rows, so those reads are defined and the output does not depend on whatever
        // memory follows the caller's array.
        padded.load(from: base)
        var srcData: [UnsafePointer<UInt8>?] = [UnsafePointer(padded.base), nil, nil, nil]
        var srcStride: [Int32] = [Int32(padded.stride), 0, 0, 0]
        let h = Int32(options.height)
        withUnsafeMutablePointer(to: &frm.pointee.data) { dataTuple in
            withUnsafeMutablePointer(to: &frm.pointee.linesize) { strideTuple in
                dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                    strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                        _ = sws_scale(sws, &srcData, &srcStride, 0, h, dst, dstStride)
                    }
                }
            }
        }
        frm.pointee.pts = frameIndex
        let forceKey = frameIndex % Int64(options.gop) == 0
        frm.pointee.pict_type = forceKey ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        frameIndex += 1
        ret = avcodec_send_frame(enc, frm)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: url.path, reason: "encoder refused frame (\(ffmpegErrorString(ret)))") }
        try drainEncoder()
    }

    /// Appends one frame from a byte array (packed RGB24).
    public func append(rgb: [UInt8]) throws {
        try rgb.withUnsafeBufferPointer { try append(rgb: $0) }
    }

    /// Appends an image of the writer's size.
    public func append(_ image: PNGImage) throws {
        guard image.width == options.width, image.height == options.height else {
            throw VideoError(.encodeFailed, path: url.path,
                             reason: "image is \(image.width)x\(image.height), video is \(options.width)x\(options.height)")
        }
        try append(rgb: image.pixels)
    }

    /// Appends mono audio samples in [-1, 1] (only when `generatedAudioSampleRate` is set).
    public func appendAudio(_ samples: [Float]) throws {
        guard let audio = audioEncoder, let oc = oc else {
            throw VideoError(.encodeFailed, path: url.path, reason: "writer was not opened with generatedAudioSampleRate")
        }
        try audio.append(samples, format: oc, path: url.path) { [unowned self] in self.audioPackets += 1 }
    }

    private func drainEncoder() throws {
        guard let enc = enc, let pkt = packet, let oc = oc else { return }
        let eagain = inkwell_averror_eagain(), eof = inkwell_averror_eof()
        while true {
            let r = avcodec_receive_packet(enc, pkt)
            if r == eagain || r == eof { return }
            guard r >= 0 else { throw VideoError(.encodeFailed, path: url.path, reason: "encoding failed (\(ffmpegErrorString(r)))") }
            if (pkt.pointee.flags & AV_PKT_FLAG_KEY) != 0 { keyFrames += 1 }
            av_packet_rescale_ts(pkt, enc.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            let videoTime = pkt.pointee.dts != inkwell_nopts_value()
                ? Double(pkt.pointee.dts) * av_q2d(stream.pointee.time_base) : 0
            let w = av_interleaved_write_frame(oc, pkt)
            guard w >= 0 else { throw VideoError(.writeFailed, path: url.path, reason: "cannot write packet (\(ffmpegErrorString(w)))") }
            try copyAudio(upTo: videoTime)
        }
    }

    /// Copies audio packets from the source whose start time is before `limit` seconds (the
    /// first packet at or past it is kept for the next call).
    private func copyAudio(upTo limit: Double) throws {
        guard let ic = audioIn, let out = audioOutStream, let oc = oc, let p = audioPending else { return }
        let inStream = ic.pointee.streams[Int(audioInIndex)]!
        let tb = av_q2d(inStream.pointee.time_base)
        while true {
            if !audioHasPending {
                if audioInputDone { return }
                while true {
                    let r = av_read_frame(ic, p)
                    if r < 0 { audioInputDone = true; return }
                    if p.pointee.stream_index == audioInIndex { break }
                    av_packet_unref(p)
                }
                audioHasPending = true
            }
            let ts = p.pointee.pts != inkwell_nopts_value() ? p.pointee.pts : p.pointee.dts
            let t = ts != inkwell_nopts_value() ? Double(ts - audioFirstPTS) * tb : 0
            if t >= limit { return }
            if p.pointee.pts != inkwell_nopts_value() { p.pointee.pts -= audioFirstPTS }
            if p.pointee.dts != inkwell_nopts_value() { p.pointee.dts -= audioFirstPTS }
            av_packet_rescale_ts(p, inStream.pointee.time_base, out.pointee.time_base)
            p.pointee.stream_index = out.pointee.index
            p.pointee.pos = -1
            let w = av_interleaved_write_frame(oc, p)  // takes the packet's reference
            audioHasPending = false
            guard w >= 0 else { throw VideoError(.writeFailed, path: url.path, reason: "cannot write audio packet (\(ffmpegErrorString(w)))") }
            audioPackets += 1
        }
    }

    /// Flushes the encoder, copies the rest of the audio up to the video's end, writes the
    /// trailer and renames the file into place.
    @discardableResult
    public func finish() throws -> VideoWriterResult {
        guard !finished, let enc = enc, let oc = oc else {
            throw VideoError(.encodeFailed, path: url.path, reason: "writer already finished")
        }
        do {
            _ = avcodec_send_frame(enc, nil)
            try drainEncoder()
            let videoEnd = Double(frameIndex) / options.frameRate
            if audioIn != nil { try copyAudio(upTo: videoEnd - 1e-6) }
            if let audio = audioEncoder { try audio.flush(format: oc, path: url.path) { [unowned self] in self.audioPackets += 1 } }
            let r = av_write_trailer(oc)
            guard r >= 0 else { throw VideoError(.writeFailed, path: url.path, reason: "cannot write trailer (\(ffmpegErrorString(r)))") }
            let c = avio_closep(&oc.pointee.pb)
            guard c >= 0 else { throw VideoError(.writeFailed, path: url.path, reason: "cannot close file (\(ffmpegErrorString(c)))") }
            guard rename(temporaryURL.path, url.path) == 0 else {
                throw VideoError(.writeFailed, path: url.path, reason: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            cancel()
            throw error
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let result = VideoWriterResult(url: url, framesWritten: Int(frameIndex), keyFrames: keyFrames,
                                       audioPackets: audioPackets, bytes: bytes)
        release()
        finished = true
        return result
    }

    /// Abandons the output: frees everything and removes the temporary file.
    public func cancel() {
        guard !finished else { return }
        if let oc = oc, oc.pointee.pb != nil { avio_closep(&oc.pointee.pb) }
        unlink(temporaryURL.path)
        release()
        finished = true
    }

    private func release() {
        avcodec_free_context(&enc)
        av_frame_free(&frame)
        av_packet_free(&packet)
        sws_freeContext(sws)
        sws = nil
        paddedInput = nil
        if let oc = oc {
            if oc.pointee.pb != nil { avio_closep(&oc.pointee.pb) }
            avformat_free_context(oc)
        }
        oc = nil
        if audioIn != nil { avformat_close_input(&audioIn) }
        av_packet_free(&audioPending)
        audioEncoder = nil
    }
}
