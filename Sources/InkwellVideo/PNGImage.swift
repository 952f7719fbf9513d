import CFFmpeg
import Foundation
import InkwellFiles

/// An 8-bit RGB image (packed RGB24, rows top to bottom, `width * height * 3` bytes), read and
/// written as PNG through libavcodec's PNG codec.
public struct PNGImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Packed RGB24: pixel (x, y) is at `(y * width + x) * 3`.
    public var pixels: [UInt8]

    /// An image from packed RGB24 bytes (`width * height * 3` of them).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "PNGImage size must be positive, got \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "PNGImage \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid image, default black.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width > 0 && height > 0, "PNGImage size must be positive, got \(width)x\(height)")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        if fill != (0, 0, 0) {
            for i in stride(from: 0, to: p.count, by: 3) { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2 }
        }
        pixels = p
    }

    /// The pixel at (x, y) as (r, g, b).
    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get {
            let i = (y * width + x) * 3
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.0; pixels[i + 1] = newValue.1; pixels[i + 2] = newValue.2
        }
    }

    /// Copies `other` into this image with its top-left corner at (x, y), clipped to the bounds.
    public mutating func paste(_ other: PNGImage, x: Int, y: Int) {
        let x0 = max(0, x), x1 = min(width, x + other.width)
        guard x1 > x0 else { return }
        for row in max(0, y)..<min(height, y + other.height) {
            let srcStart = ((row - y) * other.width + (x0 - x)) * 3
            let dstStart = (row * width + x0) * 3
            let n = (x1 - x0) * 3
            pixels.withUnsafeMutableBufferPointer { dst in
                other.pixels.withUnsafeBufferPointer { src in
                    (dst.baseAddress! + dstStart).update(from: src.baseAddress! + srcStart, count: n)
                }
            }
        }
    }

    // MARK: PNG encoding

    /// The image as PNG file bytes (libavcodec's PNG encoder, RGB24).
    public func pngData() throws -> Data {
        FFmpegLog.ensureConfigured()
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw VideoError(.encodeFailed, path: "<png>", reason: "this FFmpeg build has no PNG encoder")
        }
        var ctx = avcodec_alloc_context3(codec)
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer { avcodec_free_context(&ctx); av_frame_free(&frame); av_packet_free(&packet) }
        guard let c = ctx, let f = frame, let p = packet else {
            throw VideoError(.encodeFailed, path: "<png>", reason: "out of memory")
        }
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_RGB24
        c.pointee.time_base = AVRational(num: 1, den: 1)
        var ret = avcodec_open2(c, codec, nil)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: "<png>", reason: "cannot open PNG encoder (\(ffmpegErrorString(ret)))") }
        f.pointee.format = AV_PIX_FMT_RGB24.rawValue
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        ret = av_frame_get_buffer(f, 0)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: "<png>", reason: ffmpegErrorString(ret)) }
        let stride = Int(f.pointee.linesize.0)
        let dst = f.pointee.data.0!
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                (dst + y * stride).update(from: src.baseAddress! + y * width * 3, count: width * 3)
            }
        }
        f.pointee.pts = 0
        ret = avcodec_send_frame(c, f)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: "<png>", reason: ffmpegErrorString(ret)) }
        ret = avcodec_receive_packet(c, p)
        guard ret >= 0 else { throw VideoError(.encodeFailed, path: "<png>", reason: ffmpegErrorString(ret)) }
        return Data(bytes: p.pointee.data, count: Int(p.pointee.size))
    }

    /// Writes the image as a PNG file: to a temporary name in the same folder, then renamed.
    public func write(to url: URL) throws {
        let data = try pngData()
        do { try AtomicFile.write(data, to: url) } catch let error as FileWriteError {
            throw VideoError(.writeFailed, path: error.path, reason: error.reason)
        }
    }

    // MARK: PNG decoding

    /// Decodes PNG file bytes (any PNG colour type; alpha is dropped, 16-bit reduced to 8).
    public init(pngData data: Data, path: String = "<png>") throws {
        FFmpegLog.ensureConfigured()
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.count > 8, Array(data.prefix(8)) == signature else {
            throw VideoError(.notMedia, path: path, reason: data.isEmpty ? "empty file (0 bytes)" : "not a PNG file")
        }
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_PNG) else {
            throw VideoError(.unsupportedCodec, path: path, reason: "this FFmpeg build has no PNG decoder")
        }
        var ctx = avcodec_alloc_context3(codec)
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer { avcodec_free_context(&ctx); av_frame_free(&frame); av_packet_free(&packet) }
        guard let c = ctx, let f = frame, let p = packet else {
            throw VideoError(.decodeFailed, path: path, reason: "out of memory")
        }
        var ret = avcodec_open2(c, codec, nil)
        guard ret >= 0 else { throw VideoError(.decodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        ret = av_new_packet(p, Int32(data.count))
        guard ret >= 0 else { throw VideoError(.decodeFailed, path: path, reason: ffmpegErrorString(ret)) }
        data.withUnsafeBytes { raw in
            p.pointee.data.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: data.count)
        }
        ret = avcodec_send_packet(c, p)
        if ret >= 0 { _ = avcodec_send_packet(c, nil); ret = avcodec_receive_frame(c, f) }
        guard ret >= 0 else {
            throw VideoError(.decodeFailed, path: path, reason: "damaged PNG (\(ffmpegErrorString(ret)))")
        }
        let w = Int(f.pointee.width), h = Int(f.pointee.height)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        if f.pointee.format == AV_PIX_FMT_RGB24.rawValue {
            let stride = Int(f.pointee.linesize.0)
            let src = f.pointee.data.0!
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h { (dst.baseAddress! + y * w * 3).update(from: src + y * stride, count: w * 3) }
            }
        } else {
            guard let sws = sws_getContext(Int32(w), Int32(h), AVPixelFormat(rawValue: f.pointee.format),
                                           Int32(w), Int32(h), AV_PIX_FMT_RGB24, SWS_POINT, nil, nil, nil) else {
                throw VideoError(.decodeFailed, path: path, reason: "cannot convert PNG pixel format to RGB24")
            }
            defer { sws_freeContext(sws) }
            // Padded rows: swscale's unscaled converters write past a row's last pixel.
            let rows = PaddedRGBRows(width: w, height: h)
            var dstData: [UnsafeMutablePointer<UInt8>?] = [rows.base, nil, nil, nil]
            var dstStride: [Int32] = [Int32(rows.stride), 0, 0, 0]
            withUnsafePointer(to: &f.pointee.data) { dataTuple in
                withUnsafePointer(to: &f.pointee.linesize) { strideTuple in
                    dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                        strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                            _ = sws_scale(sws, src, srcStride, 0, Int32(h), &dstData, &dstStride)
                        }
                    }
                }
            }
            out.withUnsafeMutableBufferPointer { rows.store(into: $0.baseAddress!, pictureWidth: w) }
        }
        self.init(width: w, height: h, pixels: out)
    }

    /// Reads a PNG file. Throws `VideoError` naming the file and the reason.
    public static func read(from url: URL) throws -> PNGImage {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            let reason = !exists ? "no such file" : isDir.boolValue ? "is a directory" : "cannot read (\(error.localizedDescription))"
            throw VideoError(exists ? .notReadable : .notFound, path: url.path, reason: reason)
        }
        return try PNGImage(pngData: data, path: url.path)
    }

    // MARK: Grids

    /// Tiles images into a grid (a contact sheet), row by row, `columns` per row, `gap` pixels
    /// between cells and around the border, on `background`. Cells are the size of the largest
    /// image; smaller images sit at their cell's top-left corner.
    public static func grid(_ images: [PNGImage], columns: Int, gap: Int = 2,
                            background: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> PNGImage {
        precondition(!images.isEmpty, "PNGImage.grid needs at least one image")
        precondition(columns > 0 && gap >= 0, "PNGImage.grid needs columns > 0 and gap >= 0")
        let cellW = images.map(\.width).max()!, cellH = images.map(\.height).max()!
        let cols = min(columns, images.count)
        let rows = (images.count + columns - 1) / columns
        var sheet = PNGImage(width: cols * cellW + (cols + 1) * gap, height: rows * cellH + (rows + 1) * gap,
                             fill: background)
        for (i, image) in images.enumerated() {
            let r = i / columns, c = i % columns
            sheet.paste(image, x: gap + c * (cellW + gap), y: gap + r * (cellH + gap))
        }
        return sheet
    }
}

