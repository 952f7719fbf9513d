import Foundation

/// How a report refers to the run's PNG files.
public enum ImageMode: Sendable, Equatable {
    /// Inline as `data:` URIs: the HTML file stands alone (it can be mailed or moved).
    case embed
    /// Relative links: the HTML must stay where it was written relative to the run.
    case link
    /// Embed when the images together are at most `maxBytes`, otherwise link.
    case auto(maxBytes: Int64)

    /// The default: embed up to 24 MiB of images.
    public static let automatic = ImageMode.auto(maxBytes: 24 << 20)
}

/// Turns run files into `<img>` markup for a report written at `outputDirectory`, or into a note
/// saying what is missing.
struct ReportImages {
    let embed: Bool
    let outputDirectory: URL
    /// Images narrower than half this are shown enlarged 2, 3 or 4 times (CSS pixels).
    var displayWidth = 560

    /// Decides embedding for the given files (missing files count as 0 bytes).
    init(mode: ImageMode, files: [URL], outputDirectory: URL) {
        self.outputDirectory = outputDirectory.standardizedFileURL
        switch mode {
        case .embed: embed = true
        case .link: embed = false
        case .auto(let limit):
            var total: Int64 = 0
            for file in files {
                total += (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)??.int64Value ?? 0
            }
            embed = total <= limit
        }
    }

    /// `<img>` for `file` (shown as `displayPath`), or a `.missing` note when it is absent or not
    /// a PNG file.
    func image(_ file: URL, displayPath: String, alt: String) -> String {
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            return "<div class=\"missing\">missing: <code>\(Markup.escape(displayPath))</code> (file not found)</div>"
        }
        let header = (try? handle.read(upToCount: 24)) ?? Data()
        try? handle.close()
        guard let size = ReportImages.pngSize(header) else {
            return "<div class=\"missing\">unreadable: <code>\(Markup.escape(displayPath))</code> is not a PNG image</div>"
        }
        let source: String
        if embed {
            guard let data = try? Data(contentsOf: file) else {
                return "<div class=\"missing\">unreadable: <code>\(Markup.escape(displayPath))</code> cannot be read</div>"
            }
            source = "data:image/png;base64," + data.base64EncodedString()
        } else {
            source = ReportImages.relativePath(from: outputDirectory, to: file)
                .split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
                .joined(separator: "/")
        }
        // Small sample grids are enlarged by a whole factor (pixelated), up to `displayWidth`.
        let factor = max(1, min(4, displayWidth / size.width))
        let style = factor > 1 ? " style=\"width:\(size.width * factor)px\"" : ""
        return "<img src=\"\(Markup.escape(source))\" width=\"\(size.width)\" height=\"\(size.height)\"\(style) alt=\"\(Markup.escape(alt))\" data-path=\"\(Markup.escape(displayPath))\">"
    }

    /// Width and height from a PNG file's signature and IHDR chunk (the first 24 bytes), or nil
    /// when the bytes are not a PNG header.
    static func pngSize(_ header: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](header)
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        let w = be32(16), h = be32(20)
        return w > 0 && h > 0 ? (w, h) : nil
    }

    /// A relative path from `directory` to `file` (`../run-a/samples/x.png`); both absolute.
    static func relativePath(from directory: URL, to file: URL) -> String {
        let base = directory.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let target = file.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        var common = 0
        while common < base.count && common < target.count && base[common] == target[common] { common += 1 }
        let ups = Array(repeating: "..", count: base.count - common)
        return (ups + target[common...]).joined(separator: "/")
    }
}
