import InkwellEngine

/// A principal component analysis of frames: their mean and the top k directions of variance.
/// Frames held in memory are fitted through the N x N Gram matrix of the centred frames (N frames
/// of D = C*H*W values, N much smaller than D), whose eigenvectors LAPACK finds in double
/// precision; a split of frames too large for that is fitted by `fit(_:components:)` on the split
/// (StreamedPCA.swift).
public struct FramePCA {
    /// The mean frame, flattened: (D).
    public let mean: Tensor
    /// The principal directions, orthonormal rows by decreasing variance: (k, D).
    public let components: Tensor
    /// The variance of the fitted frames along each component (k).
    public let variances: [Double]

    public init(mean: Tensor, components: Tensor, variances: [Double]) {
        precondition(components.rank == 2 && mean.count == components.shape[1] && variances.count == components.shape[0],
                     "FramePCA: mean \(Shape.describe(mean.shape)), components \(Shape.describe(components.shape)), \(variances.count) variances")
        self.mean = mean
        self.components = components
        self.variances = variances
    }

    /// Values per frame (D).
    public var dimension: Int { mean.count }
    /// Components kept (k).
    public var count: Int { components.shape[0] }

    /// Fits `k` components to frames (N, ...) (fewer when the frames span fewer directions); nil
    /// when a frame holds a NaN or infinite value.
    public static func fit(_ frames: Tensor, components k: Int) -> FramePCA? {
        let n = frames.shape[0], d = frames.count / max(frames.shape[0], 1)
        precondition(n >= 2 && k >= 1, "FramePCA.fit: needs 2 frames and 1 component, got \(n) frames, k \(k)")
        let mean = Tensor(zeros: [d])
        for i in 0..<n { for j in 0..<d { mean.pointer[j] += frames.pointer[i * d + j] } }
        for j in 0..<d { mean.pointer[j] /= Float(n) }
        let centred = Tensor(zeros: [n, d])
        for i in 0..<n { for j in 0..<d { centred.pointer[i * d + j] = frames.pointer[i * d + j] - mean.pointer[j] } }
        let gram = Tensor(zeros: [n, n])
        BLAS.gemm(transB: true, m: n, n: n, k: d, a: centred.pointer, lda: d, b: centred.pointer, ldb: d, c: gram.pointer, ldc: n)
        guard let eigen = LinearAlgebra.symmetricEigen(gram.values.map(Double.init), n: n) else { return nil }
        let (values, vectors) = eigen
        let (kept, basis) = leadingEigenvectors(values, vectors, count: k)
        let components = Tensor(zeros: [kept.count, d])
        BLAS.gemm(m: kept.count, n: d, k: n, a: basis.pointer, lda: n, b: centred.pointer, ldb: d, c: components.pointer, ldc: d)
        for (row, i) in kept.enumerated() {
            let scale = Float(1 / values[i].squareRoot())
            for j in 0..<d { components.pointer[row * d + j] *= scale }
        }
        return FramePCA(mean: mean, components: components, variances: kept.map { values[$0] / Double(n - 1) })
    }

    /// The indices of the `k` largest eigenvalues (ascending `values`, as LAPACK gives them),
    /// largest first, and their eigenvectors (rows of the n x n `vectors`) as rows of a (k, n)
    /// tensor. Directions with no variance (under 1e-7 of the largest: beyond the frames' rank)
    /// are dropped, so fewer than `k` may come back.
    static func leadingEigenvectors(_ values: [Double], _ vectors: [Double], count k: Int) -> (indices: [Int], rows: Tensor) {
        let n = values.count
        let top = values.last ?? 0
        let kept = Array((0..<n).reversed().filter { values[$0] > max(top, 1e-30) * 1e-7 }.prefix(k))
        let rows = Tensor(zeros: [kept.count, n])
        for (row, i) in kept.enumerated() { for j in 0..<n { rows.pointer[row * n + j] = Float(vectors[i * n + j]) } }
        return (kept, rows)
    }

    /// Coordinates of frames (N, ...) along the first `m` components (default all): (N, m).
    public func project(_ frames: Tensor, components m: Int? = nil) -> Tensor {
        let (n, d, k) = (frames.shape[0], dimension, min(m ?? count, count))
        precondition(frames.count == n * d, "FramePCA.project: frames \(Shape.describe(frames.shape)) do not have \(d) values each")
        let centred = Tensor(zeros: [n, d])
        for i in 0..<n { for j in 0..<d { centred.pointer[i * d + j] = frames.pointer[i * d + j] - mean.pointer[j] } }
        let out = Tensor(zeros: [n, k])
        BLAS.gemm(transB: true, m: n, n: k, k: d, a: centred.pointer, lda: d, b: components.pointer, ldb: d, c: out.pointer, ldc: k)
        return out
    }

    /// Each frame (N, ...) rebuilt from its coordinates: mean + coordinates x components, the
    /// frames' shape.
    public func reconstruct(_ frames: Tensor) -> Tensor {
        let coordinates = project(frames)
        let (n, d) = (frames.shape[0], dimension)
        let out = Tensor(zeros: frames.shape)
        for i in 0..<n { (out.pointer + i * d).update(from: mean.pointer, count: d) }
        BLAS.gemm(m: n, n: d, k: count, a: coordinates.pointer, lda: count, b: components.pointer, ldb: d, beta: 1, c: out.pointer, ldc: d)
        return out
    }
}

/// The Fréchet distance between Gaussians fitted to two sets of points (N, d) and (M, d):
/// |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)), with unbiased covariances. It is what FID
/// computes, here in a fixed embedding (a PCA of real frames) instead of an Inception network.
public func frechetDistance(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
                 "frechetDistance: point sets \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) differ in dimension")
    let d = a.shape[1]
    let (ma, sa) = meanAndCovariance(a), (mb, sb) = meanAndCovariance(b)
    var distance = zip(ma, mb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    for i in 0..<d { distance += sa[i * d + i] + sb[i * d + i] }
    let distanceAfterRoot = distance - 2 * LinearAlgebra.traceOfProductSquareRoot(sa, sb, n: d)
    return distanceAfterRoot.isNaN ? .nan : max(0, distanceAfterRoot)
}

/// Mean (d) and unbiased covariance (d x d, row-major) of points (N, d); zero covariance for N < 2.
func meanAndCovariance(_ x: Tensor) -> ([Double], [Double]) {
    let (n, d) = (x.shape[0], x.shape[1])
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += Double(x.pointer[i * d + j]) } }
    mean = mean.map { $0 / Double(max(n, 1)) }
    var covariance = [Double](repeating: 0, count: d * d)
    guard n > 1 else { return (mean, covariance) }
    for i in 0..<n {
        for p in 0..<d {
            let u = Double(x.pointer[i * d + p]) - mean[p]
            for q in p..<d { covariance[p * d + q] += u * (Double(x.pointer[i * d + q]) - mean[q]) }
        }
    }
    for p in 0..<d { for q in p..<d { covariance[p * d + q] /= Double(n - 1); covariance[q * d + p] = covariance[p * d + q] } }
    return (mean, covariance)
}
