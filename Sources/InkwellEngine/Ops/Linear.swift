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
        if needs[1] {
            let t = Tensor.empty(weight.shape)
            BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: g.pointer, lda: outFeatures,
                      b: x.pointer, ldb: inFeatures, c: t.pointer, ldc: inFeatures)
            gw = t
        }
        if needs.count > 2, needs[2] {
            let t = Tensor(zeros: [outFeatures])
            let gp = g.pointer, bp = t.pointer
            for row in 0..<n { for o in 0..<outFeatures { bp[o] += gp[row * outFeatures + o] } }
            gb = t
        }
        return [gx, gw, gb].prefix(needs.count).map { $0 }
    }
}
