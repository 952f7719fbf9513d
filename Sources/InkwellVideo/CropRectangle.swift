/// A rectangle of the decoded picture to keep before scaling, in the picture's pixels as
/// decoded (before any rotation): `WxH+X+Y`, as ffmpeg's crop filter and X11 geometry write it.
public struct CropRectangle: Sendable, Equatable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var x: Int
    public var y: Int

    public init(width: Int, height: Int, x: Int, y: Int) {
        self.width = width; self.height = height; self.x = x; self.y = y
    }

    /// Parses `WxH+X+Y` (e.g. `121x64+0+0`); nil when the text is not of that form or a size is 0.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let size = parts[0].split(separator: "x", omittingEmptySubsequences: false)
        guard size.count == 2, let w = Int(size[0]), let h = Int(size[1]), let x = Int(parts[1]), let y = Int(parts[2]),
              w > 0, h > 0, x >= 0, y >= 0 else { return nil }
        self.init(width: w, height: h, x: x, y: y)
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }

    /// Whether the rectangle lies inside a picture of this size.
    public func fits(width pictureWidth: Int, height pictureHeight: Int) -> Bool {
        x + width <= pictureWidth && y + height <= pictureHeight
    }

    /// The error for a picture it does not fit.
    func outside(width pictureWidth: Int, height pictureHeight: Int) -> String {
        "crop \(self) lies outside the \(pictureWidth)x\(pictureHeight) frame"
    }
}
