/// Shape helpers. Shapes are plain `[Int]`, outermost first (N, C, H, W for images).
public enum Shape {
    /// Number of elements of a shape (1 for a scalar, `[]`).
    @inlinable public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Bytes of an array of `shape` whose elements take `elementBytes` each; nil when that
    /// overflows an `Int` (a shape read from a file: check it before multiplying its dimensions).
    public static func byteCount(_ shape: [Int], elementBytes: Int) -> Int? {
        var bytes = elementBytes
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            bytes = product
        }
        return bytes
    }

    /// "[2, 3, 5]": how shapes appear in every error message.
    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// Row-major strides of a contiguous tensor.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }
}

/// Stops with a message naming the op and both shapes: the engine's programmer-error path.
@inline(never)
public func shapeMismatch(_ op: String, _ a: [Int], _ b: [Int], _ detail: String = "") -> Never {
    let extra = detail.isEmpty ? "" : " (\(detail))"
    fatalError("\(op): shape mismatch: \(Shape.describe(a)) vs \(Shape.describe(b))\(extra)")
}

/// Stops with a message naming the op, the offending shape and what was expected.
@inline(never)
public func badShape(_ op: String, _ shape: [Int], expected: String) -> Never {
    fatalError("\(op): got shape \(Shape.describe(shape)), expected \(expected)")
}
