// Matrix primitives: matmul and linear (x W^T + b), by OpenBLAS's sgemm.

extension Tensor {
    /// (M, K) x (K, N) -> (M, N).
    public func matmul(_ other: Tensor) -> Tensor {
        guard rank == 2, other.rank == 2, shape[1] == other.shape[0] else { shapeMismatch("matmul", shape, other.shape) }
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        let out = Tensor.empty([m, n])
        BLAS.gemm(m: m, n: n, k: k, a: pointer, lda: k, b: other.pointer, ldb: n, c: out.pointer, ldc: n)
        let a = self, b = other
        return out.recorded("matmul", [a, b]) { g, needs in
            var ga: Tensor?, gb: Tensor?
            if needs[0] {
                let t = Tensor.empty([m, k])
                BLAS.gemm(transB: true, m: m, n: k, k: n, a: g.pointer, lda: n, b: b.pointer, ldb: n, c: t.pointer, ldc: k)
                ga = t
            }
            if needs[1] {
                let t = Tensor.empty([k, n])
                BLAS.gemm(transA: true, m: k, n: n, k: m, a: a.pointer, lda: k, b: g.pointer, ldb: n, c: t.pointer, ldc: n)
                gb = t
            }
            return [ga, gb]
        }
    }
}

/// y = x W^T + b: x (N, in), weight (out, in), bias (out) -> (N, out).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1] else {
        shapeMismatch("linear", x.shape, weight.shape, "input (N, in) vs weight (out, in)")
    }
    let (n, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
    if let bias, bias.shape != [outFeatures] { shapeMismatch("linear", weight.shape, bias.shape, "weight (out, in) vs bias (out)") }
    let out = Tensor.empty([n, outFeatures])
    if let bias {
        for row in 0..<n { (out.pointer + row * outFeatures).update(from: bias.pointer, count: outFeatures) }
    }
    BLAS.gemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x.pointer, lda: inFeatures,
              b: weight.pointer, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: out.pointer, ldc: outFeatures)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("linear", inputs, saving: [x, weight]) { g, needs in
        var gx: Tensor?, gw: Tensor?, gb: Tensor?
        if needs[0] {
            let t = Tensor.empty(x.shape)
            BLAS.gemm(m: n, n: inFeatures, k: outFeatures, a: g.pointer, lda: outFeatures,
                      b: weight.pointer, ldb: inFeatures, c: t.pointer, ldc: inFeatures)
            gx = t
        }
        if needs[1] { gw = linearWeightGradient(g, x) }
        if needs.count > 2, needs[2] {
            let t = Tensor(zeros: [outFeatures])
            let gp = g.pointer, bp = t.pointer
            for row in 0..<n { for o in 0..<outFeatures { bp[o] += gp[row * outFeatures + o] } }
            gb = t
        }
        return [gx, gw, gb].prefix(needs.count).map { $0 }
    }
}

/// A linear layer's weight gradient gᵀ x (out, in), from its output gradient g (N, out) and input
/// x (N, in).
///
/// In a data-parallel step (`GlobalBatch.group`), for a gradient of
/// `GlobalBatch.factorGatherMinimum` values or more whose global batch's rows of g and x (its
/// "sufficient factors") hold fewer values than it, every process gathers those rows and makes
/// the global gradient: one product over the whole batch, as one process makes it, for
/// N_global x (in + out) floats moved instead of an out x in sum (at the reference widths and a
/// global batch of 16, 2.5 MB instead of 302 MB for the encoder's layer). The result is marked `isSummedOverGlobalBatch`, and the gradient reducer
/// leaves it alone. Otherwise the gradient is this process's share, which the reducer sums.
func linearWeightGradient(_ g: Tensor, _ x: Tensor) -> Tensor {
    let (outFeatures, inFeatures) = (g.shape[1], x.shape[1])
    let gw = Tensor.empty([outFeatures, inFeatures])
    if let group = GlobalBatch.group, let factors = globalFactors(g, x, over: group) {
        let width = outFeatures + inFeatures
        BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: factors.shape[0], a: factors.pointer, lda: width,
                  b: factors.pointer + outFeatures, ldb: width, c: gw.pointer, ldc: inFeatures)
        gw.isSummedOverGlobalBatch = true
    } else {
        BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: g.shape[0], a: g.pointer, lda: outFeatures,
                  b: x.pointer, ldb: inFeatures, c: gw.pointer, ldc: inFeatures)
    }
    return gw
}

extension GlobalBatch {
    /// The smallest weight gradient (values) made from gathered rows: 1 Mi floats (4 MiB). A
    /// smaller sum costs its latency more than its bytes, and gathering saves nothing there.
    public static let factorGatherMinimum = 1 << 20

    /// Whether a linear layer's weight gradient (out x in) over a global batch of `rows` is made
    /// from the gathered rows (`linear`) rather than summed over the processes.
    public static func gathersFactors(inFeatures: Int, outFeatures: Int, rows: Int) -> Bool {
        inFeatures * outFeatures >= factorGatherMinimum && rows * (inFeatures + outFeatures) < inFeatures * outFeatures
    }
}

/// The global batch's rows [g | x] (N_global, out + in), gathered in its order; nil where
/// `GlobalBatch.gathersFactors` says no (every process decides alike: the shapes and the row
/// count are global).
private func globalFactors(_ g: Tensor, _ x: Tensor, over group: BatchReduction) -> Tensor? {
    let (n, outFeatures, inFeatures) = (g.shape[0], g.shape[1], x.shape[1])
    // A small layer needs no row count: skip its collective.
    guard inFeatures * outFeatures >= GlobalBatch.factorGatherMinimum else { return nil }
    let rows = Int(GlobalBatch.sum([Double(n)], over: group)[0])
    guard GlobalBatch.gathersFactors(inFeatures: inFeatures, outFeatures: outFeatures, rows: rows) else { return nil }
    let width = outFeatures + inFeatures
    let local = TensorStorage(count: n * width, zeroed: false)
    for row in 0..<n {
        (local.pointer + row * width).update(from: g.pointer + row * outFeatures, count: outFeatures)
        (local.pointer + row * width + outFeatures).update(from: x.pointer + row * inFeatures, count: inFeatures)
    }
    return withExtendedLifetime(local) { group.gatherAcrossBatch(UnsafeBufferPointer(local.buffer), rowLength: width) }
}
