import Foundation

// Pointwise primitives: relu, leaky relu, tanh, sigmoid, exp, log, clamp. Each backward is the
// derivative evaluated on the saved input or output.

extension Tensor {
    /// Applies `forward` pointwise; the backward multiplies the gradient by
    /// `derivative(input, output)`.
    private func pointwise(_ op: String, _ forward: (Float) -> Float,
                           derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count, forward)
        let input = self
        return out.recorded(op, [self], saving: [self]) { [unowned out] g, _ in
            let gx = Tensor.empty(g.shape)
            let gp = g.pointer, xp = input.pointer, yp = out.pointer, op = gx.pointer
            Parallel.forRanges(gx.count, grain: 16_384) { r in
                for i in r { op[i] = gp[i] * derivative(xp[i], yp[i]) }
            }
            return [gx]
        }
    }

    /// max(x, 0). The gradient at 0 is 0, as in PyTorch.
    public func relu() -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count) { max($0, 0) }
        let input = self
        return out.recorded("relu", [self]) { g, _ in
            // Written out (not through `pointwise`) so the derivative is inlined and vectorised.
            let gx = Tensor.empty(g.shape)
            Kernels.zip(g.pointer, input.pointer, gx.pointer, gx.count) { gi, x in x > 0 ? gi : 0 }
            return [gx]
        }
    }

    /// x for x > 0, slope * x otherwise (PyTorch's default slope is 0.01).
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count) { $0 > 0 ? $0 : $0 * slope }
        let input = self
        return out.recorded("leaky_relu", [self]) { g, _ in
            let gx = Tensor.empty(g.shape)
            Kernels.zip(g.pointer, input.pointer, gx.pointer, gx.count) { gi, x in x > 0 ? gi : gi * slope }
            return [gx]
        }
    }

    public func tanh() -> Tensor {
        pointwise("tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }

    public func sigmoid() -> Tensor {
        pointwise("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) })
    }

    public func exp() -> Tensor {
        pointwise("exp", { Foundation.exp($0) }, derivative: { _, y in y })
    }

    public func log() -> Tensor {
        pointwise("log", { Foundation.log($0) }, derivative: { x, _ in 1 / x })
    }

    /// Limits values to [min, max]; the gradient passes where min <= x <= max (as in PyTorch).
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        pointwise("clamp", { Swift.min(Swift.max($0, lower), upper) },
                  derivative: { x, _ in (x >= lower && x <= upper) ? 1 : 0 })
    }
}
