// Reflection padding of the last two axes (PyTorch's ReflectionPad2d).

/// How many elements to add on each side of the last two axes.
public struct Padding2D: Sendable, Equatable {
    public var left, right, top, bottom: Int
    public init(left: Int, right: Int, top: Int, bottom: Int) {
        self.left = left; self.right = right; self.top = top; self.bottom = bottom
    }
    public init(_ all: Int) { self.init(left: all, right: all, top: all, bottom: all) }
}

@inline(__always) private func reflect(_ i: Int, _ n: Int) -> Int {
    i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i)
}

/// Pads (N, C, H, W) by mirroring across the edges (the edge itself is not repeated).
/// Each pad must be smaller than the dimension it pads. A recorded result can be recomputed from
/// `x`, so an op that saves it for its backward (a convolution) keeps `x` instead.
public func reflectionPad2d(_ x: Tensor, _ padding: Padding2D) -> Tensor {
    guard x.rank >= 2 else { badShape("reflection_pad2d", x.shape, expected: "at least 2 axes") }
    let (h, w) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    guard padding.top < h, padding.bottom < h, padding.left < w, padding.right < w,
          min(padding.top, padding.bottom, padding.left, padding.right) >= 0 else {
        badShape("reflection_pad2d", x.shape, expected: "each pad (\(padding)) smaller than the padded dimension")
    }
    let (oh, ow) = (h + padding.top + padding.bottom, w + padding.left + padding.right)
    let planes = Shape.count(Array(x.shape.dropLast(2)))
    let out = Tensor.empty(Array(x.shape.dropLast(2)) + [oh, ow])
    let rows = (0..<oh).map { reflect($0 - padding.top, h) }
    let cols = (0..<ow).map { reflect($0 - padding.left, w) }
    let left = padding.left
    /// Pads planes `range` of the source into `dst` (which starts at plane `range.lowerBound`).
    let padPlanes = { (xp: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, range: Range<Int>) in
        for p in range {
            let src = xp + p * h * w, plane = dst + (p - range.lowerBound) * oh * ow
            for y in 0..<oh {
                let s = src + rows[y] * w, d = plane + y * ow
                // The interior is a straight copy; only the mirrored edges gather.
                (d + left).update(from: s, count: w)
                for c in 0..<left { d[c] = s[cols[c]] }
                for c in (left + w)..<ow { d[c] = s[cols[c]] }
            }
        }
    }
    let xp = x.pointer, yp = out.pointer
    Parallel.forRanges(planes, grain: 8) { range in padPlanes(xp, yp + range.lowerBound * oh * ow, range) }
    let inputShape = x.shape
    defer {
        if out.node != nil {
            // Image by image (the leading axis): the planes of image i.
            let source = x.detached(), planesPerImage = planes / max(x.shape[0], 1)
            out.recomputation = Recomputation(source: source.storage) { i, dst in
                padPlanes(source.pointer, dst, (i * planesPerImage)..<((i + 1) * planesPerImage))
            }
        }
    }
    return out.recorded("reflection_pad2d", [x], saving: []) { g, _ in
        let gx = Tensor(zeros: inputShape)
        let gp = g.pointer, xp = gx.pointer
        Parallel.forRanges(planes, grain: 8) { range in
            for p in range {
                let src = gp + p * oh * ow, dst = xp + p * h * w
                for y in 0..<oh {
                    let s = src + y * ow, d = dst + rows[y] * w
                    let interior = s + left
                    for c in 0..<w { d[c] += interior[c] }
                    for c in 0..<left { d[cols[c]] += s[c] }
                    for c in (left + w)..<ow { d[cols[c]] += s[c] }
                }
            }
        }
        return [gx]
    }
}
