import Foundation

// Loss primitives: binary cross-entropy against a constant target, mean squared error and mean
// absolute error.

/// Mean binary cross-entropy of probabilities `p` against the constant `target`, with the logs
/// clamped at -100 as PyTorch does. Returns a scalar. The mean is over the global batch
/// (`GlobalBatch`) when one spans several processes.
public func binaryCrossEntropy(_ p: Tensor, target: Float) -> Tensor {
    let n = p.count
    var total = 0.0
    for i in 0..<n {
        let x = Double(p.pointer[i])
        let logP = max(Foundation.log(x), -100)
        let log1mP = max(Foundation.log(1 - x), -100)
        total -= Double(target) * logP + (1 - Double(target)) * log1mP
    }
    let (sum, count) = globalTotal(total, count: n)
    let out = Tensor(scalar: Float(sum / Double(max(count, 1))))
    return out.recorded("binary_cross_entropy", [p]) { g, _ in
        let scale = g.pointer[0] / Float(max(count, 1))
        let gp = Tensor.empty(p.shape)
        for i in 0..<n {
            let x = p.pointer[i]
            gp.pointer[i] = scale * (x - target) / max((1 - x) * x, 1e-12)
        }
        return [gp]
    }
}

/// Mean of (a - b)^2 over every element (of the global batch, when one spans several processes).
/// Returns a scalar.
public func mseLoss(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape else { shapeMismatch("mse_loss", a.shape, b.shape) }
    let n = a.count
    var total = 0.0
    for i in 0..<n { let d = Double(a.pointer[i] - b.pointer[i]); total += d * d }
    let (sum, count) = globalTotal(total, count: n)
    let out = Tensor(scalar: Float(sum / Double(max(count, 1))))
    return out.recorded("mse_loss", [a, b]) { g, needs in
        let scale = 2 * g.pointer[0] / Float(max(count, 1))
        let diff = Tensor.empty(a.shape)
        Kernels.zip(a.pointer, b.pointer, diff.pointer, n) { scale * ($0 - $1) }
        return [needs[0] ? diff : nil, needs[1] ? diff * -1 : nil]
    }
}

/// Mean of |a - b| over every element (of the global batch, when one spans several processes).
/// Returns a scalar. The gradient is sign(a - b) / n, with sign(0) = 0 (as PyTorch's l1_loss).
public func l1Loss(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape else { shapeMismatch("l1_loss", a.shape, b.shape) }
    let n = a.count
    var total = 0.0
    for i in 0..<n { total += Double(abs(a.pointer[i] - b.pointer[i])) }
    let (sum, count) = globalTotal(total, count: n)
    let out = Tensor(scalar: Float(sum / Double(max(count, 1))))
    return out.recorded("l1_loss", [a, b]) { g, needs in
        let scale = g.pointer[0] / Float(max(count, 1))
        let sign = Tensor.empty(a.shape)
        Kernels.zip(a.pointer, b.pointer, sign.pointer, n) { x, y in x > y ? scale : (x < y ? -scale : 0) }
        return [needs[0] ? sign : nil, needs[1] ? sign * -1 : nil]
    }
}

/// A local total and element count, summed over the global batch (unchanged in one process).
func globalTotal(_ total: Double, count: Int) -> (total: Double, count: Int) {
    guard let group = GlobalBatch.group else { return (total, count) }
    let sums = GlobalBatch.sum([total, Double(count)], over: group)
    return (sums[0], Int(sums[1]))
}
