import InkwellEngine

/// Stochastic gradient descent with optional momentum (PyTorch's semantics:
/// buf = momentum * buf + g, p -= lr * buf; the first step sets buf = g).
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    private var buffers: [Tensor?]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            guard g.shape == p.shape else { shapeMismatch("SGD.step", p.shape, g.shape, "parameter vs gradient") }
            var direction = g
            if momentum != 0 {
                if let buf = buffers[index] {
                    let (bp, gp, mom) = (buf.pointer, g.pointer, momentum)
                    for i in 0..<buf.count { bp[i] = mom * bp[i] + gp[i] }
                    direction = buf
                } else {
                    buffers[index] = g.clone()
                    direction = buffers[index]!
                }
            }
            Kernels.axpy(-learningRate, direction.pointer, p.pointer, p.count)
            p.storage.markMutated()
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        buffers.enumerated().compactMap { index, buf in buf.map { ("\(index).momentum_buffer", $0) } }
    }

    public func loadState(_ state: [String: Tensor]) throws {
        for (index, p) in parameters.enumerated() {
            guard let buf = state["\(index).momentum_buffer"] else { buffers[index] = nil; continue }
            guard buf.shape == p.shape else {
                throw OptimizerStateError("SGD momentum buffer \(index) \(Shape.describe(buf.shape)) does not fit the parameter \(Shape.describe(p.shape))")
            }
            buffers[index] = buf.clone()
        }
    }
}
