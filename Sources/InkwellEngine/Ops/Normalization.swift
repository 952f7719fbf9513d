import Foundation

// Normalisation primitives: batch norm (training and evaluation) and instance norm, over NCHW.
// Both normalise groups of elements to zero mean and unit (biased) variance; they differ in which
// elements form a group: batch norm one group per channel across the batch, instance norm one
// group per (image, channel).

/// Where a group's elements lie: `segments` runs of `length` contiguous elements.
private struct Groups {
    let count: Int
    let segments: Int
    let length: Int
    let offset: (_ group: Int, _ segment: Int) -> Int

    var size: Int { segments * length }

    /// Per-group mean and biased variance, in double precision.
    func moments(_ x: UnsafePointer<Float>) -> (mean: [Double], variance: [Double]) {
        var means = [Double](repeating: 0, count: count)
        var variances = [Double](repeating: 0, count: count)
        means.withUnsafeMutableBufferPointer { mp in
            variances.withUnsafeMutableBufferPointer { vp in
                let mp = mp.baseAddress!, vp = vp.baseAddress!
                Parallel.forRanges(count, grain: 1) { range in
                    for g in range { (mp[g], vp[g]) = moments(x, group: g) }
                }
            }
        }
        return (means, variances)
    }

    /// Group g's mean and biased variance, in double precision (two passes: the sum, then the
    /// squared deviations from the mean).
    func moments(_ x: UnsafePointer<Float>, group g: Int) -> (mean: Double, variance: Double) {
        var s = 0.0
        for seg in 0..<segments { s += VectorSums.sum(x + offset(g, seg), length) }
        let m = s / Double(size)
        var ss = 0.0
        for seg in 0..<segments { ss += VectorSums.squaredDeviations(x + offset(g, seg), length, mean: Float(m)) }
        return (m, ss / Double(size))
    }

    /// Per-group mean and biased variance over the global batch whose local part is x (the local
    /// `moments` when `batch` is nil), and the global element count per group: the sums, then the
    /// squared deviations from the global mean, each summed over `batch`.
    func moments(_ x: UnsafePointer<Float>, over batch: BatchReduction?) -> (mean: [Double], variance: [Double], count: Int) {
        guard let batch else { let (m, v) = moments(x); return (m, v, size) }
        var sums = perGroup { g in (0..<segments).reduce(0.0) { $0 + VectorSums.sum(x + offset(g, $1), length) } }
        sums.append(Double(size))
        sums = GlobalBatch.sum(sums, over: batch)
        let n = sums.removeLast()
        let means = sums.map { $0 / n }
        let squares = GlobalBatch.sum(perGroup { g in
            (0..<segments).reduce(0.0) { $0 + VectorSums.squaredDeviations(x + offset(g, $1), length, mean: Float(means[g])) }
        }, over: batch)
        return (means, squares.map { $0 / n }, Int(n))
    }

    /// `value(g)` for every group, computed in parallel.
    private func perGroup(_ value: (Int) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { op in
            let op = op.baseAddress!
            Parallel.forRanges(count, grain: 1) { range in for g in range { op[g] = value(g) } }
        }
        return out
    }

    /// The training-mode backward over a global batch (SyncBatchNorm): this process's sums
    /// sum(g) and sum(g * xhat) are summed over `batch`, the input gradient uses their global
    /// means (`count` elements per group), and the local sums are returned for the affine
    /// parameters' gradients (this process's share, summed with every gradient later).
    func backward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>?,
                  mean: [Float], invstd: [Float], scale: UnsafePointer<Float>?, count n: Int, over batch: BatchReduction,
                  parameterIndex: (Int) -> Int) -> (sumG: [Double], sumGXhat: [Double]) {
        let local = backward(g, x, nil, mean: mean, invstd: invstd, scale: scale, parameterIndex: parameterIndex)
        guard let gx else { return local }
        let global = GlobalBatch.sum(local.sumG + local.sumGXhat, over: batch)
        Parallel.forRanges(count, grain: 1) { range in
            for grp in range {
                let gamma = scale?[parameterIndex(grp)] ?? 1
                let mg = Float(global[grp] / Double(n)), mgx = Float(global[count + grp] / Double(n))
                for seg in 0..<segments {
                    let o = offset(grp, seg)
                    VectorSums.normalizationGradient(g + o, x + o, gx + o, length, a: gamma * invstd[grp], mg: mg, mgx: mgx,
                                                     mean: mean[grp], invstd: invstd[grp])
                }
            }
        }
        return local
    }

    /// y = (x - mean) * invstd * scale + shift, per group.
    func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                   mean: [Float], invstd: [Float], scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                   parameterIndex: (Int) -> Int) {
        Parallel.forRanges(count, grain: 1) { range in
            for g in range {
                let c = parameterIndex(g)
                let a = invstd[g] * (scale?[c] ?? 1)
                let b = (shift?[c] ?? 0) - mean[g] * a
                for seg in 0..<segments {
                    let o = offset(g, seg)
                    for i in 0..<length { y[o + i] = x[o + i] * a + b }
                }
            }
        }
    }

    /// The input gradient of training-mode normalisation, and the per-group sums
    /// sum(g) and sum(g * xhat) the affine parameters' gradients need.
    func backward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>?,
                  mean: [Float], invstd: [Float], scale: UnsafePointer<Float>?, parameterIndex: (Int) -> Int)
        -> (sumG: [Double], sumGXhat: [Double]) {
        var sumG = [Double](repeating: 0, count: count)
        var sumGX = [Double](repeating: 0, count: count)
        sumG.withUnsafeMutableBufferPointer { sg in
            sumGX.withUnsafeMutableBufferPointer { sgx in
                let sg = sg.baseAddress!, sgx = sgx.baseAddress!
                Parallel.forRanges(count, grain: 1) { range in
                    for grp in range {
                        let m = mean[grp], inv = invstd[grp]
                        var s1 = 0.0, s2 = 0.0
                        for seg in 0..<segments {
                            let o = offset(grp, seg)
                            let (a, b) = VectorSums.gradientSums(g + o, x + o, length, mean: m, invstd: inv)
                            s1 += a
                            s2 += b
                        }
                        sg[grp] = s1
                        sgx[grp] = s2
                        guard let gx else { continue }
                        // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
                        let gamma = scale?[parameterIndex(grp)] ?? 1
                        let mg = Float(s1 / Double(size)), mgx = Float(s2 / Double(size))
                        let a = gamma * inv
                        for seg in 0..<segments {
                            let o = offset(grp, seg)
                            VectorSums.normalizationGradient(g + o, x + o, gx + o, length, a: a, mg: mg, mgx: mgx,
                                                             mean: m, invstd: inv)
                        }
                    }
                }
            }
        }
        return (sumG, sumGX)
    }
}

/// Running statistics of a batch-norm layer, updated in place by training-mode calls.
public struct RunningStatistics {
    public let mean: Tensor
    public let variance: Tensor
    public let momentum: Float
    public init(mean: Tensor, variance: Tensor, momentum: Float = 0.1) {
        self.mean = mean; self.variance = variance; self.momentum = momentum
    }
}

private func checkChannelVector(_ op: String, _ x: Tensor, _ v: Tensor?, _ what: String) {
    if let v, v.shape != [x.shape[1]] { shapeMismatch(op, x.shape, v.shape, "input (N, C, H, W) vs \(what) (C)") }
}

/// Batch normalisation over (N, H, W) per channel of an (N, C, H, W) input.
///
/// Training (`training: true`): normalises by the batch's mean and biased variance and, when
/// `running` is given, updates it in place: `r = (1 - momentum) r + momentum * stat`, with the
/// unbiased variance. Evaluation: normalises by `running` (required).
/// `weight` (gamma) and `bias` (beta) are per-channel, optional.
public func batchNorm2d(_ x: Tensor, weight: Tensor?, bias: Tensor?, running: RunningStatistics?,
                        training: Bool, eps: Float = 1e-5) -> Tensor {
    guard x.rank == 4 else { badShape("batch_norm2d", x.shape, expected: "(N, C, H, W)") }
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    checkChannelVector("batch_norm2d", x, weight, "weight")
    checkChannelVector("batch_norm2d", x, bias, "bias")
    if let running {
        checkChannelVector("batch_norm2d", x, running.mean, "running mean")
        checkChannelVector("batch_norm2d", x, running.variance, "running variance")
    }
    let groups = Groups(count: c, segments: n, length: hw) { ch, image in (image * c + ch) * hw }
    let mean: [Float], invstd: [Float]
    // In training, the statistics are the global batch's (SyncBatchNorm) when one spans several
    // processes; `count` is then its element count per channel.
    let batch = training ? GlobalBatch.group : nil
    var count = n * hw
    if training {
        let (m, v, total) = groups.moments(x.pointer, over: batch)
        count = total
        guard count > 1 else { badShape("batch_norm2d", x.shape, expected: "more than one value per channel in training") }
        mean = m.map(Float.init)
        invstd = v.map { Float(1 / ($0 + Double(eps)).squareRoot()) }
        if let running {
            let unbias = Double(count) / Double(count - 1)
            let mom = running.momentum
            for ch in 0..<c {
                running.mean.pointer[ch] = (1 - mom) * running.mean.pointer[ch] + mom * Float(m[ch])
                running.variance.pointer[ch] = (1 - mom) * running.variance.pointer[ch] + mom * Float(v[ch] * unbias)
            }
            running.mean.storage.markMutated()
            running.variance.storage.markMutated()
        }
    } else {
        guard let running else { fatalError("batch_norm2d: evaluation mode needs running statistics") }
        mean = Array(running.mean.buffer)
        invstd = running.variance.buffer.map { 1 / ($0 + eps).squareRoot() }
    }
    let out = Tensor.empty(x.shape)
    groups.normalize(x.pointer, out.pointer, mean: mean, invstd: invstd,
                     scale: weight?.pointer, shift: bias?.pointer) { $0 }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    let weightIndex = weight == nil ? nil : 1
    let biasIndex = bias == nil ? nil : (weight == nil ? 1 : 2)
    return out.recorded("batch_norm2d", inputs, saving: [x] + (weight.map { [$0] } ?? [])) { g, needs in
        var grads = [Tensor?](repeating: nil, count: needs.count)
        let gx = needs[0] ? Tensor.empty(x.shape) : nil
        let sums: (sumG: [Double], sumGXhat: [Double])
        if training, let batch {
            sums = groups.backward(g.pointer, x.pointer, gx?.pointer, mean: mean, invstd: invstd,
                                   scale: weight?.pointer, count: count, over: batch) { $0 }
        } else if training {
            sums = groups.backward(g.pointer, x.pointer, gx?.pointer, mean: mean, invstd: invstd,
                                   scale: weight?.pointer) { $0 }
        } else {
            // Statistics are constants: dx = g * gamma * invstd.
            sums = groups.backward(g.pointer, x.pointer, nil, mean: mean, invstd: invstd, scale: nil) { $0 }
            if let gx {
                let a = (0..<c).map { invstd[$0] * (weight?.pointer[$0] ?? 1) }
                groups.normalize(g.pointer, gx.pointer, mean: [Float](repeating: 0, count: c), invstd: a,
                                 scale: nil, shift: nil) { $0 }
            }
        }
        grads[0] = gx
        if let wi = weightIndex, needs[wi] { grads[wi] = Tensor(shape: [c], values: sums.sumGXhat.map(Float.init)) }
        if let bi = biasIndex, needs[bi] { grads[bi] = Tensor(shape: [c], values: sums.sumG.map(Float.init)) }
        return grads
    }
}

/// Instance normalisation: each (image, channel) plane of an (N, C, H, W) input to zero mean and
/// unit biased variance (PyTorch's InstanceNorm2d without affine parameters or running stats).
/// The backward reads the output (the normalised values), not the input.
public func instanceNorm2d(_ x: Tensor, eps: Float = 1e-5) -> Tensor {
    let (out, invstd) = instanceNormalized(x, eps: eps, op: "instance_norm2d")
    let y = out.storage
    let hw = x.shape[2] * x.shape[3]
    return out.recorded("instance_norm2d", [x], savingStorages: [y]) { g, _ in
        let gx = Tensor.empty(g.shape)
        let (gp, yp) = (g.pointer, y.pointer)
        instanceNormBackward(invstd: invstd, planeSize: hw, into: gx.pointer) { plane, _ in
            (normalized: UnsafePointer(yp + plane * hw), gradient: UnsafePointer(gp + plane * hw))
        }
        return [gx]
    }
}

/// `instanceNorm2d` followed by `leakyRelu(slope:)` (slope > 0) as one op, which keeps only
/// its output for the backward: half the memory of the two ops. Same values as the two ops.
public func instanceNorm2dLeakyRelu(_ x: Tensor, eps: Float = 1e-5, slope: Float = 0.01) -> Tensor {
    guard slope > 0 else { return instanceNorm2d(x, eps: eps).leakyRelu(slope: slope) }
    let (out, invstd) = instanceNormalized(x, eps: eps, leakyReluSlope: slope, op: "instance_norm2d_leaky_relu")
    let r = out.storage
    let hw = x.shape[2] * x.shape[3]
    return out.recorded("instance_norm2d_leaky_relu", [x], savingStorages: [r]) { g, _ in
        // The normalised value is r where r > 0 and r / slope elsewhere (into the one-plane
        // scratch); the gradient reaching it is g scaled by the leaky ReLU's derivative (into
        // gx, where the normalisation's gradient then replaces it).
        let gx = Tensor.empty(g.shape)
        let (gp, rp, op) = (g.pointer, r.pointer, gx.pointer)
        let inverse = 1 / slope
        instanceNormBackward(invstd: invstd, planeSize: hw, into: op) { plane, y in
            let o = plane * hw
            for i in 0..<hw {
                let v = rp[o + i]
                if v > 0 { y[i] = v; op[o + i] = gp[o + i] } else { y[i] = v * inverse; op[o + i] = gp[o + i] * slope }
            }
            return (UnsafePointer(y), UnsafePointer(op + o))
        }
        return [gx]
    }
}

/// The input gradient of instance normalisation from its output, plane by plane, into `gx`:
/// `plane(p, scratch)` gives plane p's normalised values and the gradient reaching them (either
/// may be written into `scratch`, one plane's worth, or, for the gradient, into gx's own plane,
/// which is read in full before it is written). `Groups.backward`'s arithmetic with xhat given.
private func instanceNormBackward(
    invstd: [Float], planeSize hw: Int, into gx: UnsafeMutablePointer<Float>,
    plane: (_ p: Int, _ scratch: UnsafeMutablePointer<Float>) -> (normalized: UnsafePointer<Float>, gradient: UnsafePointer<Float>)
) {
    Parallel.forRanges(invstd.count, grain: 1) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: hw)
        defer { scratch.deallocate() }
        for p in range {
            let (y, g) = plane(p, scratch)
            let (s1, s2) = VectorSums.gradientSums(g, y, hw, mean: 0, invstd: 1)
            let mg = Float(s1 / Double(hw)), mgx = Float(s2 / Double(hw))
            VectorSums.normalizationGradient(g, y, gx + p * hw, hw, a: invstd[p], mg: mg, mgx: mgx, mean: 0, invstd: 1)
        }
    }
}

/// The instance-normalised values of `x`, unrecorded, with the per-plane 1/std.
private func instanceNormalized(_ x: Tensor, eps: Float, leakyReluSlope slope: Float? = nil, op: String) -> (Tensor, [Float]) {
    guard x.rank == 4 else { badShape(op, x.shape, expected: "(N, C, H, W)") }
    let hw = x.shape[2] * x.shape[3]
    guard hw > 1 else { badShape(op, x.shape, expected: "more than one spatial element") }
    // Plane by plane, so that the statistics' second pass and the normalisation (and the leaky
    // ReLU) read a plane that is still in cache: one pass over memory in, one out.
    let planes = x.shape[0] * x.shape[1]
    let groups = Groups(count: planes, segments: 1, length: hw) { plane, _ in plane * hw }
    var invstd = [Float](repeating: 0, count: planes)
    let out = Tensor.empty(x.shape)
    let (xp, yp) = (x.pointer, out.pointer)
    invstd.withUnsafeMutableBufferPointer { invstd in
        let ip = invstd.baseAddress!
        Parallel.forRanges(planes, grain: 1) { range in
            for p in range {
                let (src, dst) = (xp + p * hw, yp + p * hw)
                let (mean, variance) = groups.moments(xp, group: p)
                let a = Float(1 / (variance + Double(eps)).squareRoot()), b = 0 - Float(mean) * a
                ip[p] = a
                if let slope {
                    for i in 0..<hw { let v = src[i] * a + b; dst[i] = v > 0 ? v : v * slope }
                } else {
                    for i in 0..<hw { dst[i] = src[i] * a + b }
                }
            }
        }
    }
    return (out, invstd)
}
