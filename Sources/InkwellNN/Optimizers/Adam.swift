import Foundation
import InkwellEngine

/// Adam with PyTorch's semantics: per-parameter step count and first and second moments,
/// bias correction, eps added outside the square root:
///
///     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///     p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    /// Per-parameter factors of `learningRate` (1 each; a part with its own rate, such as a
    /// model's linear paths, has another).
    public var rateScales: [Float]
    /// Per-parameter state: steps taken, first moment, second moment (nil before the first step).
    public private(set) var steps: [Int]
    private var firstMoments: [Tensor?]
    private var secondMoments: [Tensor?]

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        steps = Array(repeating: 0, count: parameters.count)
        rateScales = Array(repeating: 1, count: parameters.count)
        firstMoments = Array(repeating: nil, count: parameters.count)
        secondMoments = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            guard g.shape == p.shape else { shapeMismatch("Adam.step", p.shape, g.shape, "parameter vs gradient") }
            let m = firstMoments[index] ?? Tensor(zeros: p.shape)
            let v = secondMoments[index] ?? Tensor(zeros: p.shape)
            firstMoments[index] = m
            secondMoments[index] = v
            steps[index] += 1
            let t = Double(steps[index])
            let correction1 = 1 - pow(Double(beta1), t)
            let correction2Root = (1 - pow(Double(beta2), t)).squareRoot()
            let stepSize = Float(Double(learningRate) / correction1) * rateScales[index]
            let invRoot = Float(1 / correction2Root)
            let (b1, b2, eps) = (beta1, beta2, self.eps)
            let pp = p.pointer, gp = g.pointer, mp = m.pointer, vp = v.pointer
            Parallel.forRanges(p.count) { range in
                for i in range {
                    let gi = gp[i]
                    let mi = b1 * mp[i] + (1 - b1) * gi
                    let vi = b2 * vp[i] + (1 - b2) * gi * gi
                    mp[i] = mi
                    vp[i] = vi
                    pp[i] -= stepSize * mi / (vi.squareRoot() * invRoot + eps)
                }
            }
            p.storage.markMutated()
        }
    }

    /// `"<i>.step"` (a one-element tensor), `"<i>.exp_avg"`, `"<i>.exp_avg_sq"` for each
    /// parameter index i that has taken a step (PyTorch's state names).
    public func stateTensors() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        for index in parameters.indices {
            guard let m = firstMoments[index], let v = secondMoments[index] else { continue }
            result.append(("\(index).step", Tensor(scalar: Float(steps[index]))))
            result.append(("\(index).exp_avg", m))
            result.append(("\(index).exp_avg_sq", v))
        }
        return result
    }

    public func loadState(_ state: [String: Tensor]) throws {
        for (index, p) in parameters.enumerated() {
            guard let step = state["\(index).step"] else {
                steps[index] = 0; firstMoments[index] = nil; secondMoments[index] = nil
                continue
            }
            guard let m = state["\(index).exp_avg"], let v = state["\(index).exp_avg_sq"] else {
                throw OptimizerStateError("Adam state for parameter \(index) is incomplete (needs exp_avg and exp_avg_sq)")
            }
            guard m.shape == p.shape, v.shape == p.shape else {
                throw OptimizerStateError("Adam state for parameter \(index): moments \(Shape.describe(m.shape)) do not fit the parameter \(Shape.describe(p.shape))")
            }
            steps[index] = Int(step.item)
            firstMoments[index] = m.clone()
            secondMoments[index] = v.clone()
        }
    }
}
