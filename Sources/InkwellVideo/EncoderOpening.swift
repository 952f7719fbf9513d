import CFFmpeg

/// Opens a configured encoder for `stream` of `format`: global headers where the container wants
/// them, then the stream's parameters and time base from the encoder. `what` names the encoder in
/// the error ("h264 encoder", "audio encoder").
func openEncoder(_ context: UnsafeMutablePointer<AVCodecContext>, _ codec: UnsafePointer<AVCodec>,
                 stream: UnsafeMutablePointer<AVStream>, format: UnsafeMutablePointer<AVFormatContext>,
                 what: String, path: String) throws {
    if (format.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
        context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
    }
    var ret = avcodec_open2(context, codec, nil)
    guard ret >= 0 else {
        throw VideoError(.encodeFailed, path: path, reason: "cannot open \(what) (\(ffmpegErrorString(ret)))")
    }
    ret = avcodec_parameters_from_context(stream.pointee.codecpar, context)
    guard ret >= 0 else { throw VideoError(.encodeFailed, path: path, reason: ffmpegErrorString(ret)) }
    stream.pointee.time_base = context.pointee.time_base
}
