#ifndef INKWELL_CFFMPEG_SHIM_H
#define INKWELL_CFFMPEG_SHIM_H
#include <errno.h>
#include <string.h>
#include <math.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libavutil/cpu.h>

// Function-like and cast macros that Swift cannot import, as inline functions.
static inline int inkwell_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int inkwell_averror_eof(void) { return AVERROR_EOF; }
static inline int inkwell_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int inkwell_averror_enospc(void) { return AVERROR(ENOSPC); }
static inline int64_t inkwell_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int inkwell_error_is_errno(int err, int e) { return err == AVERROR(e); }

/// Whether a decoded frame is a key frame (the field moved to `flags` in libavutil 58).
static inline int inkwell_frame_is_key(const AVFrame *f) {
#if LIBAVUTIL_VERSION_MAJOR >= 58
    return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
    return f->key_frame;
#endif
}

/// Whether the decoder flagged the frame as corrupt.
static inline int inkwell_frame_is_corrupt(const AVFrame *f) {
    return (f->flags & AV_FRAME_FLAG_CORRUPT) != 0 || f->decode_error_flags != 0;
}

/// The stream's display-matrix rotation in degrees (counter-clockwise, as av_display_rotation_get
/// reports it), or NAN when the stream has no display matrix.
static inline double inkwell_stream_rotation(const AVStream *st) {
    const uint8_t *data = NULL;
#if LIBAVFORMAT_VERSION_MAJOR > 60 || (LIBAVFORMAT_VERSION_MAJOR == 60 && LIBAVFORMAT_VERSION_MINOR >= 15)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
        st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 36) data = sd->data;
#else
    size_t size = 0;
    data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (size < 36) data = NULL;
#endif
    if (!data) return NAN;
    return av_display_rotation_get((const int32_t *)data);
}

/// Attaches a display matrix made by av_display_rotation_set(degrees) to an output stream
/// (FFmpeg 5.1 documents that angle as clockwise).
static inline int inkwell_stream_set_rotation(AVStream *st, double degrees) {
#if LIBAVFORMAT_VERSION_MAJOR > 60 || (LIBAVFORMAT_VERSION_MAJOR == 60 && LIBAVFORMAT_VERSION_MINOR >= 15)
    AVPacketSideData *sd = av_packet_side_data_new(&st->codecpar->coded_side_data,
        &st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX, 36, 0);
    if (!sd) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)sd->data, degrees);
    return 0;
#else
    uint8_t *data = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 36);
    if (!data) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)data, degrees);
    return 0;
#endif
}

/// Whether the input format is a still-image demuxer (image2, png_pipe, ...).
static inline int inkwell_format_is_image(const AVFormatContext *fc) {
    const char *n = fc->iformat ? fc->iformat->name : NULL;
    if (!n) return 0;
    if (strcmp(n, "image2") == 0 || strcmp(n, "image2pipe") == 0) return 1;
    size_t len = strlen(n);
    return len > 5 && strcmp(n + len - 5, "_pipe") == 0;
}

/// Log callback that counts error-level messages from demuxers and decoders into the int64
/// counter their context's `opaque` points at (set by Inkwell while it decodes), then prints as
/// FFmpeg's default callback does (subject to av_log_set_level).
static void inkwell_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    if (avcl && level <= AV_LOG_ERROR) {
        const AVClass *cls = *(const AVClass **)avcl;
        void *opaque = NULL;
        if (cls == avformat_get_class()) opaque = ((AVFormatContext *)avcl)->opaque;
        else if (cls == avcodec_get_class()) opaque = ((AVCodecContext *)avcl)->opaque;
        if (opaque) __atomic_fetch_add((int64_t *)opaque, 1, __ATOMIC_RELAXED);
    }
    av_log_default_callback(avcl, level, fmt, vl);
}

/// Installs `inkwell_log_callback` (once, at start-up).
static inline void inkwell_install_log_counter(void) { av_log_set_callback(inkwell_log_callback); }

/// Reads a counter written by `inkwell_log_callback`.
static inline int64_t inkwell_counter_load(const int64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
#endif
