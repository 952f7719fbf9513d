// Reduction primitives: sum and mean (of everything or over one axis), and the variance over one
// axis. Accumulation is in double precision.

extension Tensor {
    /// The sum of every element, as a scalar (shape `[]`).
    public func sum() -> Tensor {
        let out = Tensor(scalar: Float(Kernels.sum(pointer, count)))
        let inputShape = shape
        return out.recorded("sum", [self], saving: []) { g, _ in
            [Tensor(repeating: g.pointer[0], shape: inputShape)]
        }
    }

    /// The mean of every element, as a scalar.
    public func mean() -> Tensor {
        sum() * (1 / Float(Swift.max(count, 1)))
    }

    /// Views the shape as (outer, axis, inner) around `axis`.
    private func split(around axis: Int, _ op: String) -> (outer: Int, length: Int, inner: Int, reduced: [Int]) {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { badShape(op, shape, expected: "an axis \(axis) within rank \(rank)") }
        var reduced = shape
        reduced.remove(at: a)
        return (Shape.count(Array(shape[..<a])), shape[a], Shape.count(Array(shape[(a + 1)...])), reduced)
    }

    /// Sums over `axis`, removing it.
    public func sum(axis: Int) -> Tensor {
        let (outer, length, inner, reduced) = split(around: axis, "sum(axis:)")
        let out = Tensor.empty(reduced)
        let x = pointer, y = out.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var s = 0.0
                for l in 0..<length { s += Double(x[(o * length + l) * inner + i]) }
                y[o * inner + i] = Float(s)
            }
        }
        let inputShape = shape
        return out.recorded("sum_axis", [self], saving: []) { g, _ in
            let gx = Tensor.empty(inputShape)
            let gp = g.pointer, xp = gx.pointer
            for o in 0..<outer {
                for l in 0..<length {
                    for i in 0..<inner { xp[(o * length + l) * inner + i] = gp[o * inner + i] }
                }
            }
            return [gx]
        }
    }

    /// Averages over `axis`, removing it.
    public func mean(axis: Int) -> Tensor {
        let length = shape[axis < 0 ? axis + rank : axis]
        return sum(axis: axis) * (1 / Float(Swift.max(length, 1)))
    }

    /// The variance over `axis`, removing it; unbiased (divides by n - 1) by default, as
    /// `torch.var`. Backward: 2 (x - mean) / (n - 1) times the gradient.
    public func variance(axis: Int, unbiased: Bool = true) -> Tensor {
        let (outer, length, inner, reduced) = split(around: axis, "variance(axis:)")
        let divisor = Float(unbiased ? length - 1 : length)
        let out = Tensor.empty(reduced)
        let means = Tensor.empty(reduced)
        let x = pointer, y = out.pointer, mp = means.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var s = 0.0
                for l in 0..<length { s += Double(x[(o * length + l) * inner + i]) }
                let m = s / Double(length)
                var ss = 0.0
                for l in 0..<length {
                    let d = Double(x[(o * length + l) * inner + i]) - m
                    ss += d * d
                }
                mp[o * inner + i] = Float(m)
                y[o * inner + i] = Float(ss / Double(divisor))
            }
        }
        let input = self
        return out.recorded("variance", [self]) { g, _ in
            let gx = Tensor.empty(input.shape)
            let gp = g.pointer, xp = input.pointer, op = gx.pointer, mp = means.pointer
            for o in 0..<outer {
                for l in 0..<length {
                    for i in 0..<inner {
                        let k = (o * length + l) * inner + i
                        op[k] = gp[o * inner + i] * 2 * (xp[k] - mp[o * inner + i]) / divisor
                    }
                }
            }
            return [gx]
        }
    }
}
