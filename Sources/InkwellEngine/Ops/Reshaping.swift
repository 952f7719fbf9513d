// Shape primitives: reshape (shares storage), narrow (a range along one axis), concatenation.

extension Tensor {
    /// The same values with another shape of equal element count; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else { shapeMismatch("reshape", shape, newShape) }
            resolved[hole] = count / known
        }
        guard Shape.count(resolved) == count else { shapeMismatch("reshape", shape, newShape) }
        let out = Tensor(shape: resolved, storage: storage)
        let inputShape = shape
        return out.recorded("reshape", [self], saving: []) { g, _ in
            [Tensor(shape: inputShape, storage: g.storage)]
        }
    }

    /// Flattens every axis from `startAxis` on into one (N, C, H, W -> N, C*H*W by default).
    public func flattened(from startAxis: Int = 1) -> Tensor {
        reshaped(Array(shape[..<startAxis]) + [Shape.count(Array(shape[startAxis...]))])
    }

    /// Elements `start ..< start + length` along `axis` (e.g. columns of a matrix with axis 1).
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank, start >= 0, length >= 0, start + length <= shape[a] else {
            badShape("narrow", shape, expected: "axis \(axis) to hold \(start)..<\(start + length)")
        }
        var outShape = shape
        outShape[a] = length
        let outer = Shape.count(Array(shape[..<a]))
        let inner = Shape.count(Array(shape[(a + 1)...]))
        let full = shape[a]
        let out = Tensor.empty(outShape)
        for o in 0..<outer {
            (out.pointer + o * length * inner).update(from: pointer + (o * full + start) * inner, count: length * inner)
        }
        let inputShape = shape
        return out.recorded("narrow", [self], saving: []) { g, _ in
            let gx = Tensor(zeros: inputShape)
            for o in 0..<outer {
                (gx.pointer + (o * full + start) * inner).update(from: g.pointer + o * length * inner, count: length * inner)
            }
            return [gx]
        }
    }

    /// Joins tensors along `axis`; every other dimension must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { fatalError("concatenate: no tensors") }
        let a = axis < 0 ? axis + first.rank : axis
        for t in tensors.dropFirst() {
            var x = t.shape, y = first.shape
            guard x.count == y.count, a < x.count else { shapeMismatch("concatenate", first.shape, t.shape) }
            x[a] = 0; y[a] = 0
            if x != y { shapeMismatch("concatenate", first.shape, t.shape, "along axis \(axis)") }
        }
        let lengths = tensors.map { $0.shape[a] }
        var outShape = first.shape
        outShape[a] = lengths.reduce(0, +)
        let outer = Shape.count(Array(first.shape[..<a]))
        let inner = Shape.count(Array(first.shape[(a + 1)...]))
        let total = outShape[a]
        let out = Tensor.empty(outShape)
        var offset = 0
        for (t, length) in zip(tensors, lengths) {
            for o in 0..<outer {
                (out.pointer + (o * total + offset) * inner).update(from: t.pointer + o * length * inner, count: length * inner)
            }
            offset += length
        }
        return out.recorded("concatenate", tensors, saving: []) { g, needs in
            var grads: [Tensor?] = []
            var offset = 0
            for (index, length) in lengths.enumerated() {
                defer { offset += length }
                guard needs[index] else { grads.append(nil); continue }
                var s = outShape
                s[a] = length
                let gx = Tensor.empty(s)
                for o in 0..<outer {
                    (gx.pointer + o * length * inner).update(from: g.pointer + (o * total + offset) * inner, count: length * inner)
                }
                grads.append(gx)
            }
            return grads
        }
    }
}
