// Arithmetic primitives: add, subtract, multiply, divide (same shapes), scalar scaling and
// `expand` (a one-element tensor broadcast to a shape). Mixed one-element/full operands are
// expanded first, so the binary ops themselves only see equal shapes.

extension Tensor {
    /// Broadcasts a one-element tensor to `shape`. Backward: the sum of the gradient.
    public func expanded(to shape: [Int]) -> Tensor {
        guard count == 1 else { shapeMismatch("expand", self.shape, shape, "only one-element tensors expand") }
        if self.shape == shape { return self }
        let out = Tensor(repeating: pointer[0], shape: shape)
        let inputShape = self.shape
        return out.recorded("expand", [self]) { g, _ in
            [Tensor(repeating: Float(Kernels.sum(g.pointer, g.count)), shape: inputShape)]
        }
    }

    /// Makes two operands the same shape: equal shapes pass through, a one-element side expands.
    static func matched(_ op: String, _ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        if a.shape == b.shape { return (a, b) }
        if b.count == 1 { return (a, b.expanded(to: a.shape)) }
        if a.count == 1 { return (a.expanded(to: b.shape), b) }
        shapeMismatch(op, a.shape, b.shape)
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b) = matched("add", lhs, rhs)
        let out = Tensor.empty(a.shape)
        Kernels.add(a.pointer, b.pointer, out.pointer, out.count)
        return out.recorded("add", [a, b], saving: []) { g, _ in [g, g] }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b) = matched("sub", lhs, rhs)
        let out = Tensor.empty(a.shape)
        Kernels.sub(a.pointer, b.pointer, out.pointer, out.count)
        return out.recorded("sub", [a, b], saving: []) { g, needs in
            [g, needs[1] ? g * -1 : nil]
        }
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b) = matched("mul", lhs, rhs)
        let out = Tensor.empty(a.shape)
        Kernels.mul(a.pointer, b.pointer, out.pointer, out.count)
        return out.recorded("mul", [a, b]) { g, needs in
            [needs[0] ? g * b : nil, needs[1] ? g * a : nil]
        }
    }

    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (a, b) = matched("div", lhs, rhs)
        let out = Tensor.empty(a.shape)
        Kernels.zip(a.pointer, b.pointer, out.pointer, out.count) { $0 / $1 }
        return out.recorded("div", [a, b]) { g, needs in
            var ga: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor.empty(g.shape)
                Kernels.zip(g.pointer, b.pointer, t.pointer, t.count) { $0 / $1 }
                ga = t
            }
            if needs[1] {
                let t = Tensor.empty(g.shape)
                let gp = g.pointer, ap = a.pointer, bp = b.pointer, tp = t.pointer
                Parallel.forRanges(t.count) { r in for i in r { tp[i] = -gp[i] * ap[i] / (bp[i] * bp[i]) } }
                gb = t
            }
            return [ga, gb]
        }
    }

    /// Multiplies every element by a constant.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        let out = Tensor.empty(lhs.shape)
        Kernels.scale(lhs.pointer, rhs, out.pointer, out.count)
        return out.recorded("scale", [lhs], saving: []) { g, _ in [g * rhs] }
    }

    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

    /// Adds a constant to every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        let out = Tensor.empty(lhs.shape)
        Kernels.map(lhs.pointer, out.pointer, out.count) { $0 + rhs }
        return out.recorded("add_scalar", [lhs], saving: []) { g, _ in [g] }
    }

    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { (rhs * -1) + lhs }
    public static prefix func - (operand: Tensor) -> Tensor { operand * -1 }

    /// x * x.
    public func squared() -> Tensor { self * self }
}
