/// An RGB24 picture laid out as FFmpeg lays out its own frames for swscale (`av_frame_get_buffer`):
/// every row starts 64-byte aligned with at least 64 bytes of slack after its last pixel, two spare
/// rows follow the last, and all of it starts zeroed.
///
/// swscale's SIMD code reads and writes whole blocks past a row's last pixel: its unscaled
/// converters (a crop already at the target size) write past the end of a 121-pixel row, and its
/// RGB24 input code reads past it. Handed these rows instead of a packed array, those accesses stay
/// inside memory that is ours, and what they read is defined.
final class PaddedRGBRows {
    let width: Int
    let height: Int
    /// Bytes from one row's start to the next's.
    let stride: Int
    let base: UnsafeMutablePointer<UInt8>

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        stride = (width * 3 + 63) / 64 * 64 + 64
        let count = stride * (height + 2)
        base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64).bindMemory(to: UInt8.self, capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }

    /// Copies `height` packed rows of `width` pixels in from `packed`.
    func load(from packed: UnsafePointer<UInt8>) {
        for y in 0..<height { (base + y * stride).update(from: packed + y * width * 3, count: width * 3) }
    }

    /// Copies the rows out into a packed picture `pictureWidth` pixels wide, with this picture's
    /// top-left pixel at (`x`, `y`).
    func store(into picture: UnsafeMutablePointer<UInt8>, pictureWidth: Int, x: Int = 0, y: Int = 0) {
        for row in 0..<height {
            (picture + ((y + row) * pictureWidth + x) * 3).update(from: base + row * stride, count: width * 3)
        }
    }
}
