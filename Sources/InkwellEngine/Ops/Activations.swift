import Foundation

// Pointwise primitives: relu, leaky relu, tanh, sigmoid, exp, log, clamp. Each backward is the
// derivative evaluated on the saved input or output.

extension Tensor {
    /// Applies `forward` pointwise; the backward multiplies the gradient by the derivative,
    /// computed from the saved output (`ofOutput`) or the saved input (`ofInput`): exactly one
    /// is given, so only the value it reads is kept for the backward.
    private func pointwise(_ op: String, _ forward: (Float) -> Float,
                           ofInput: ((_ x: Float) -> Float)? = nil,
                           ofOutput: ((_ y: Float) -> Float)? = nil) -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count, forward)
        let saved = ofOutput != nil ? out.storage : storage
        let derivative = ofOutput ?? ofInput!
        return out.recorded(op, [self], savingStorages: [saved]) { g, _ in
            let gx = Tensor.empty(g.shape)
            Kernels.zip(g.pointer, saved.pointer, gx.pointer, gx.count) { gi, v in gi * derivative(v) }
            return [gx]
        }
    }

    /// max(x, 0). The gradient at 0 is 0, as in PyTorch. The backward reads the output
    /// (positive exactly where the input is).
    public func relu() -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count) { max($0, 0) }
        let y = out.storage
        return out.recorded("relu", [self], savingStorages: [y]) { g, _ in
            // Written out (not through `pointwise`) so the derivative is inlined and vectorised.
            let gx = Tensor.empty(g.shape)
            Kernels.zip(g.pointer, y.pointer, gx.pointer, gx.count) { gi, v in v > 0 ? gi : 0 }
            return [gx]
        }
    }

    /// x for x > 0, slope * x otherwise (PyTorch's default slope is 0.01). For a positive slope
    /// the backward reads the output (it has the input's sign).
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let out = Tensor.empty(shape)
        Kernels.map(pointer, out.pointer, count) { $0 > 0 ? $0 : $0 * slope }
        let saved = slope > 0 ? out.storage : storage
        return out.recorded("leaky_relu", [self], savingStorages: [saved]) { g, _ in
            let gx = Tensor.empty(g.shape)
            Kernels.zip(g.pointer, saved.pointer, gx.pointer, gx.count) { gi, v in v > 0 ? gi : gi * slope }
            return [gx]
        }
    }

    public func tanh() -> Tensor {
        pointwise("tanh", { Foundation.tanh($0) }, ofOutput: { y in 1 - y * y })
    }

    public func sigmoid() -> Tensor {
        pointwise("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, ofOutput: { y in y * (1 - y) })
    }

    public func exp() -> Tensor {
        pointwise("exp", { Foundation.exp($0) }, ofOutput: { y in y })
    }

    public func log() -> Tensor {
        pointwise("log", { Foundation.log($0) }, ofInput: { x in 1 / x })
    }

    /// Limits values to [min, max]; the gradient passes where min <= x <= max (as in PyTorch).
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        pointwise("clamp", { Swift.min(Swift.max($0, lower), upper) },
                  ofInput: { x in (x >= lower && x <= upper) ? 1 : 0 })
    }
}
