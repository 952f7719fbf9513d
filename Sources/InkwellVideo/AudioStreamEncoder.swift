import CFFmpeg
import Foundation

/// Encodes mono Float samples into an audio stream of an output container (used by
/// `VideoWriter` when `generatedAudioSampleRate` is set): AAC for MP4 / MOV / MKV, Vorbis for
/// WebM, 16-bit PCM for AVI. Samples are buffered into the encoder's frame size.
final class AudioStreamEncoder {
    private var ctx: UnsafeMutablePointer<AVCodecContext>?
    private let stream: UnsafeMutablePointer<AVStream>
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var pending: [Float] = []
    private var samplesSent: Int64 = 0
    private let frameSize: Int

    init(format oc: UnsafeMutablePointer<AVFormatContext>, sampleRate: Int, path: String) throws {
        let formatName = String(cString: oc.pointee.oformat.pointee.name)
        let names: [String]
        if formatName.contains("webm") {
            names = ["libvorbis", "vorbis"]
        } else if formatName == "avi" {
            names = ["pcm_s16le"]
        } else {
            names = ["aac", "libfdk_aac"]
        }
        guard let codec = names.lazy.compactMap({ avcodec_find_encoder_by_name($0) }).first else {
            throw VideoError(.encodeFailed, path: path, reason: "no audio encoder for \(formatName) (tried \(names.joined(separator: ", ")))")
        }
        guard sampleRate > 0, let c = avcodec_alloc_context3(codec), let st = avformat_new_stream(oc, nil) else {
            throw VideoError(.encodeFailed, path: path, reason: "cannot create audio stream")
        }
        ctx = c
        stream = st
        // The encoder's first supported sample format (fltp for aac and vorbis, s16 for pcm).
        let fmt = codec.pointee.sample_fmts?.pointee ?? AV_SAMPLE_FMT_FLTP
        c.pointee.sample_fmt = fmt
        c.pointee.sample_rate = Int32(sampleRate)
        av_channel_layout_default(&c.pointee.ch_layout, 1)
        c.pointee.bit_rate = 96_000
        c.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
        c.pointee.strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL
        try openEncoder(c, codec, stream: st, format: oc, what: "audio encoder", path: path)
        frameSize = c.pointee.frame_size > 0 ? Int(c.pointee.frame_size) : 1024
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let f = frame, packet != nil else { throw VideoError(.encodeFailed, path: path, reason: "out of memory") }
        f.pointee.format = fmt.rawValue
        f.pointee.sample_rate = Int32(sampleRate)
        f.pointee.nb_samples = Int32(frameSize)
        av_channel_layout_copy(&f.pointee.ch_layout, &c.pointee.ch_layout)
        let ret = av_frame_get_buffer(f, 0)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        if let b = f.pointee.buf.0, let data = b.pointee.data { memset(data, 0, b.pointee.size) }
    }

    deinit {
        avcodec_free_context(&ctx)
        av_frame_free(&frame)
        av_packet_free(&packet)
    }

    func append(_ samples: [Float], format oc: UnsafeMutablePointer<AVFormatContext>, path: String,
                wrote: () -> Void) throws {
        pending.append(contentsOf: samples)
        while pending.count >= frameSize {
            try send(Array(pending[0..<frameSize]), format: oc, path: path, wrote: wrote)
            pending.removeFirst(frameSize)
        }
    }

    func flush(format oc: UnsafeMutablePointer<AVFormatContext>, path: String, wrote: () -> Void) throws {
        if !pending.isEmpty {
            var last = pending
            last += [Float](repeating: 0, count: frameSize - pending.count)
            try send(last, format: oc, path: path, wrote: wrote)
            pending = []
        }
        guard let c = ctx else { return }
        _ = avcodec_send_frame(c, nil)
        try drain(format: oc, path: path, wrote: wrote)
    }

    private func send(_ chunk: [Float], format oc: UnsafeMutablePointer<AVFormatContext>, path: String,
                      wrote: () -> Void) throws {
        guard let c = ctx, let f = frame else { return }
        var ret = av_frame_make_writable(f)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        let data = f.pointee.data.0!
        switch AVSampleFormat(rawValue: f.pointee.format) {
        case AV_SAMPLE_FMT_S16, AV_SAMPLE_FMT_S16P:
            data.withMemoryRebound(to: Int16.self, capacity: chunk.count) { dst in
                for i in chunk.indices { dst[i] = Int16(max(-1, min(1, chunk[i])) * 32767) }
            }
        default: // FLT / FLTP, mono: one plane
            data.withMemoryRebound(to: Float.self, capacity: chunk.count) { dst in
                for i in chunk.indices { dst[i] = max(-1, min(1, chunk[i])) }
            }
        }
        f.pointee.pts = samplesSent
        samplesSent += Int64(chunk.count)
        ret = avcodec_send_frame(c, f)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: "audio encoder refused samples (\(ffmpegErrorString(ret)))") }
        try drain(format: oc, path: path, wrote: wrote)
    }

    private func drain(format oc: UnsafeMutablePointer<AVFormatContext>, path: String, wrote: () -> Void) throws {
        guard let c = ctx, let p = packet else { return }
        let eagain = inkwell_averror_eagain(), eof = inkwell_averror_eof()
        while true {
            let r = avcodec_receive_packet(c, p)
            if r == eagain || r == eof { return }
            guard r >= 0 else { throw VideoError(.encodeFailed, path: path, reason: "audio encoding failed (\(ffmpegErrorString(r)))") }
            av_packet_rescale_ts(p, c.pointee.time_base, stream.pointee.time_base)
            p.pointee.stream_index = stream.pointee.index
            let w = av_interleaved_write_frame(oc, p)
            guard w >= 0 else { throw VideoError(.writeFailed, path: path, reason: "cannot write audio packet (\(ffmpegErrorString(w)))") }
            wrote()
        }
    }
}
