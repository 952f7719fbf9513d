import Foundation

/// Looks at a file's first bytes to explain why FFmpeg could not open it: a text file, a known
/// container that is truncated or damaged, or an unknown format.
enum FileSniffer {
    /// The container a file's signature announces ("MP4/MOV", "Matroska/WebM", "AVI", ...), or nil.
    static func container(_ head: [UInt8]) -> String? {
        if head.count >= 8, Array(head[4..<8]) == Array("ftyp".utf8) || Array(head[4..<8]) == Array("moov".utf8)
            || Array(head[4..<8]) == Array("mdat".utf8) || Array(head[4..<8]) == Array("free".utf8) {
            return "MP4/MOV"
        }
        if head.count >= 4, head[0] == 0x1A, head[1] == 0x45, head[2] == 0xDF, head[3] == 0xA3 { return "Matroska/WebM" }
        if head.count >= 12, Array(head[0..<4]) == Array("RIFF".utf8), Array(head[8..<11]) == Array("AVI".utf8) { return "AVI" }
        if head.count >= 4, Array(head[0..<4]) == Array("OggS".utf8) { return "Ogg" }
        if head.count >= 3, Array(head[0..<3]) == Array("FLV".utf8) { return "FLV" }
        if head.count >= 4, head[0] == 0, head[1] == 0, head[2] == 1, head[3] == 0xBA { return "MPEG-PS" }
        if head.count >= 1, head[0] == 0x47, head.count >= 189 ? head[188] == 0x47 : true { return "MPEG-TS" }
        return nil
    }

    /// Whether the bytes look like text (UTF-8 without control characters other than whitespace).
    static func isText(_ head: [UInt8]) -> Bool {
        guard !head.isEmpty else { return false }
        var bytes = head
        // A multi-byte character cut at the end of the sample is not evidence of binary data.
        while let last = bytes.last, last >= 0x80, bytes.count > head.count - 4 { bytes.removeLast() }
        guard String(bytes: bytes, encoding: .utf8) != nil else { return false }
        return !bytes.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    }

    /// The first `count` bytes of a file (fewer when it is shorter).
    static func head(_ path: String, count: Int = 512) -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? h.close() }
        return [UInt8](h.readData(ofLength: count))
    }

    /// One-line reason for a file FFmpeg could not open or found no video in.
    static func explainUnreadable(path: String, ffmpegMessage: String) -> String {
        let head = head(path)
        if let kind = container(head) {
            return "truncated or damaged \(kind) file (\(ffmpegMessage))"
        }
        if isText(head) {
            return "a text file, not a video"
        }
        return "not a video file: format not recognised (\(ffmpegMessage))"
    }
}
