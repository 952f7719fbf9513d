import CFFmpeg
import Foundation
@_exported import InkwellFiles

/// Why a video could not be opened, decoded or written. `description` is one line naming the file
/// and the reason, ready for stderr and a manifest's rejected list.
public typealias VideoError = FileError<VideoFailure>

/// What went wrong with a video (`VideoError.kind`).
public enum VideoFailure: String, Sendable, Codable {
    case notFound, notReadable, emptyFile, notMedia, stillImage, noVideoStream
    case unsupportedCodec, noFrames, decodeFailed, encodeFailed, writeFailed, badCrop
}

/// FFmpeg's message for an error code (what `av_err2str` gives).
public func ffmpegErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    if av_strerror(code, &buffer, buffer.count) < 0 {
        return "error \(code)"
    }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Controls how much the FFmpeg libraries print. Inkwell counts decode errors itself, so the
/// libraries are quiet by default; `INKWELL_FFMPEG_LOG=warning` (or error, info, debug) overrides.
public enum FFmpegLog {
    public enum Level: Int32, Sendable { case quiet = -8, error = 16, warning = 24, info = 32, debug = 48 }

    private static let configured: Void = {
        let env = ProcessInfo.processInfo.environment["INKWELL_FFMPEG_LOG"]?.lowercased()
        let level: Level
        switch env {
        case "error": level = .error
        case "warning": level = .warning
        case "info": level = .info
        case "debug": level = .debug
        default: level = .quiet
        }
        av_log_set_level(level.rawValue)
        inkwell_install_log_counter()
    }()

    /// Applies the default level once (called by every entry point of this module).
    public static func ensureConfigured() { _ = configured }
}
