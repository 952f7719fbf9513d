import CFFmpeg
import Foundation

/// The swscale filter used to resize frames (`-vf scale=W:H:flags=NAME`). Default for ingest:
/// `area`. Only the filter flag is set (no extra accuracy flags), as ffmpeg's scale filter does,
/// so frames match the ffmpeg program's output.
public enum Scaler: String, CaseIterable, Sendable, Codable {
    case area, bilinear, bicubic, lanczos, point

    /// The name of the same filter in ffmpeg's `-vf scale=W:H:flags=NAME` (`point` is `neighbor`).
    public var ffmpegName: String { self == .point ? "neighbor" : rawValue }

    var swsFlags: Int32 {
        switch self {
        case .area: return SWS_AREA
        case .bilinear: return SWS_BILINEAR
        case .bicubic: return SWS_BICUBIC
        case .lanczos: return SWS_LANCZOS
        case .point: return SWS_POINT
        }
    }
}

/// How a source whose display aspect differs from the target's is fitted.
///
/// - `stretch`: resize the whole picture to the target size (what `-vf scale=121:65` does).
/// - `letterbox`: resize the whole picture to fit inside the target, keeping its display aspect,
///   centred, with black (0, 0, 0) bars filling the rest.
/// - `crop`: resize to cover the target, keeping the display aspect, cutting the excess equally
///   from both sides (centre crop).
///
/// The display aspect accounts for the sample aspect ratio and the rotation.
public enum AspectMode: String, CaseIterable, Sendable, Codable {
    case stretch, letterbox, crop
}

/// Converts decoded frames to packed RGB24 at a target size: crop (for `.crop`), swscale resize
/// and conversion with the chosen filter, then rotation by the stream's display matrix.
final class FrameConverter {
    let width: Int
    let height: Int
    let scaler: Scaler
    let aspect: AspectMode
    /// Clockwise rotation to apply for display: 0, 90, 180 or 270.
    let rotation: Int

    private var sws: OpaquePointer?
    private var lastKey: [Int32] = []
    /// RGB24 in coded orientation (the target with width and height swapped for 90 / 270).
    private var coded: [UInt8]
    /// What swscale writes (`scale`), at the inner size.
    private var scratch: PaddedRGBRows?
    /// The output, in display orientation, width * height * 3.
    private(set) var output: [UInt8]

    init(width: Int, height: Int, scaler: Scaler, aspect: AspectMode, rotation: Int) {
        self.width = width
        self.height = height
        self.scaler = scaler
        self.aspect = aspect
        self.rotation = rotation
        coded = [UInt8](repeating: 0, count: width * height * 3)
        output = [UInt8](repeating: 0, count: width * height * 3)
    }

    deinit { sws_freeContext(sws) }

    /// Converts `frame` (which may be cropped in place) into `output`.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>) throws {
        let swapped = rotation == 90 || rotation == 270
        let targetW = swapped ? height : width
        let targetH = swapped ? width : height
        var srcW = Int(frame.pointee.width)
        var srcH = Int(frame.pointee.height)
        guard srcW > 0, srcH > 0 else { throw ConvertError.badFrame }
        var sar = Double(frame.pointee.sample_aspect_ratio.num) / Double(max(frame.pointee.sample_aspect_ratio.den, 1))
        if !(sar > 0) || !sar.isFinite { sar = 1 }
        let srcAspect = Double(srcW) * sar / Double(srcH)
        let dstAspect = Double(targetW) / Double(targetH)

        var innerW = targetW, innerH = targetH, offX = 0, offY = 0
        switch aspect {
        case .stretch:
            break
        case .crop:
            if srcAspect > dstAspect * 1.0001 {
                let keep = Int((Double(srcH) * dstAspect / sar).rounded())
                let cut = max(0, srcW - max(keep, 1))
                frame.pointee.crop_left = cut / 2
                frame.pointee.crop_right = cut - cut / 2
            } else if srcAspect < dstAspect / 1.0001 {
                let keep = Int((Double(srcW) * sar / dstAspect).rounded())
                let cut = max(0, srcH - max(keep, 1))
                frame.pointee.crop_top = cut / 2
                frame.pointee.crop_bottom = cut - cut / 2
            }
            if av_frame_apply_cropping(frame, Int32(AV_FRAME_CROP_UNALIGNED)) < 0 { throw ConvertError.badFrame }
            srcW = Int(frame.pointee.width)
            srcH = Int(frame.pointee.height)
        case .letterbox:
            if srcAspect > dstAspect {
                innerH = max(1, min(targetH, Int((Double(targetW) / srcAspect).rounded())))
                offY = (targetH - innerH) / 2
            } else {
                innerW = max(1, min(targetW, Int((Double(targetH) * srcAspect).rounded())))
                offX = (targetW - innerW) / 2
            }
        }

        let format = frame.pointee.format
        let key: [Int32] = [Int32(srcW), Int32(srcH), format, Int32(innerW), Int32(innerH),
                            Int32(frame.pointee.colorspace.rawValue), Int32(frame.pointee.color_range.rawValue)]
        if key != lastKey {
            sws = sws_getCachedContext(sws, Int32(srcW), Int32(srcH), AVPixelFormat(rawValue: format),
                                       Int32(innerW), Int32(innerH), AV_PIX_FMT_RGB24,
                                       scaler.swsFlags, nil, nil, nil)
            guard sws != nil else { throw ConvertError.unsupportedFormat(format) }
            applyColorDetails(frame)
            lastKey = key
            if aspect == .letterbox {
                for i in coded.indices { coded[i] = 0 }
            }
        }

        let scaled = scale(frame, height: srcH, innerW: innerW, innerH: innerH)
        guard scaled == Int32(innerH) else { throw ConvertError.scaleFailed }
        coded.withUnsafeMutableBufferPointer { scratch!.store(into: $0.baseAddress!, pictureWidth: targetW, x: offX, y: offY) }
        rotate(targetW: targetW, targetH: targetH)
    }

    /// Runs swscale into `scratch`, whose rows are padded (`PaddedRGBRows`): a crop already at the
    /// target size takes swscale's unscaled converters, which write past a row's last pixel.
    private func scale(_ frame: UnsafeMutablePointer<AVFrame>, height srcH: Int, innerW: Int, innerH: Int) -> Int32 {
        if scratch?.width != innerW || scratch?.height != innerH { scratch = PaddedRGBRows(width: innerW, height: innerH) }
        let rows = scratch!
        var dst: [UnsafeMutablePointer<UInt8>?] = [rows.base, nil, nil, nil]
        var dstStride: [Int32] = [Int32(rows.stride), 0, 0, 0]
        return withUnsafePointer(to: &frame.pointee.data) { dataTuple in
            withUnsafePointer(to: &frame.pointee.linesize) { strideTuple in
                dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
                    strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { srcStride in
                        sws_scale(sws, src, srcStride, 0, Int32(srcH), &dst, &dstStride)
                    }
                }
            }
        }
    }

    /// Uses the frame's colour matrix and range, as ffmpeg's scale filter does.
    private func applyColorDetails(_ frame: UnsafeMutablePointer<AVFrame>) {
        var invTable: UnsafeMutablePointer<Int32>?
        var srcRange: Int32 = 0
        var table: UnsafeMutablePointer<Int32>?
        var dstRange: Int32 = 0
        var brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(sws, &invTable, &srcRange, &table, &dstRange,
                                       &brightness, &contrast, &saturation) >= 0 else { return }
        let cs = frame.pointee.colorspace
        var newInv = invTable
        if cs != AVCOL_SPC_UNSPECIFIED && cs != AVCOL_SPC_RGB {
            newInv = UnsafeMutablePointer(mutating: sws_getCoefficients(Int32(cs.rawValue)))
        }
        var newRange = srcRange
        if frame.pointee.color_range == AVCOL_RANGE_JPEG { newRange = 1 }
        if frame.pointee.color_range == AVCOL_RANGE_MPEG { newRange = 0 }
        if newInv != invTable || newRange != srcRange {
            _ = sws_setColorspaceDetails(sws, newInv, newRange, table, dstRange, brightness, contrast, saturation)
        }
    }

    private func rotate(targetW: Int, targetH: Int) {
        let w = width, h = height
        coded.withUnsafeBufferPointer { srcBuf in
            output.withUnsafeMutableBufferPointer { dstBuf in
                let src = srcBuf.baseAddress!, dst = dstBuf.baseAddress!
                switch rotation {
                case 90: // clockwise: dst(x, y) = src(row: targetH - 1 - x, col: y); targetW == h
                    for y in 0..<h {
                        for x in 0..<w {
                            let s = ((targetH - 1 - x) * targetW + y) * 3
                            let d = (y * w + x) * 3
                            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                        }
                    }
                case 180:
                    for y in 0..<h {
                        for x in 0..<w {
                            let s = ((h - 1 - y) * w + (w - 1 - x)) * 3
                            let d = (y * w + x) * 3
                            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                        }
                    }
                case 270: // counter-clockwise: dst(x, y) = src(row: x, col: targetW - 1 - y)
                    for y in 0..<h {
                        for x in 0..<w {
                            let s = (x * targetW + (targetW - 1 - y)) * 3
                            let d = (y * w + x) * 3
                            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                        }
                    }
                default:
                    dst.update(from: src, count: w * h * 3)
                }
            }
        }
    }

    /// Crops `frame` in place to the rectangle (the frame then holds only it), before conversion.
    static func apply(_ crop: CropRectangle, to frame: UnsafeMutablePointer<AVFrame>) throws {
        let (w, h) = (Int(frame.pointee.width), Int(frame.pointee.height))
        guard crop.fits(width: w, height: h) else { throw ConvertError.cropOutside(crop.outside(width: w, height: h)) }
        frame.pointee.crop_left = crop.x
        frame.pointee.crop_top = crop.y
        frame.pointee.crop_right = w - crop.x - crop.width
        frame.pointee.crop_bottom = h - crop.y - crop.height
        if av_frame_apply_cropping(frame, Int32(AV_FRAME_CROP_UNALIGNED)) < 0 { throw ConvertError.badFrame }
    }

    enum ConvertError: Error, CustomStringConvertible {
        case badFrame, unsupportedFormat(Int32), scaleFailed, cropOutside(String)
        var description: String {
            switch self {
            case .badFrame: return "decoder returned a frame with no picture"
            case .unsupportedFormat(let f):
                let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: f)).map { String(cString: $0) } ?? "\(f)"
                return "swscale cannot convert pixel format \(name)"
            case .scaleFailed: return "swscale failed to convert a frame"
            case .cropOutside(let why): return why
            }
        }
    }
}
