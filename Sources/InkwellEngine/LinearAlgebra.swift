import COpenBLAS

/// Dense linear algebra in double precision for small statistics (PCA, Fréchet distances), by
/// LAPACK through OpenBLAS. Not part of autograd.
public enum LinearAlgebra {
    /// The eigenvalues (ascending) and orthonormal eigenvectors of a symmetric n x n matrix,
    /// row-major; eigenvector i is row i of `vectors` (n x n). LAPACK's dsyevd; nil when it fails
    /// (a matrix with NaN or infinite entries).
    public static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double])? {
        precondition(matrix.count == n * n, "symmetricEigen: \(matrix.count) values for a \(n) x \(n) matrix")
        guard n > 0 else { return ([], []) }
        guard matrix.allSatisfy(\.isFinite) else { return nil }
        // Symmetric: row-major storage is its own transpose, so LAPACK's column-major result
        // holds eigenvector i in column i, which reads as row i here.
        var a = matrix
        var values = [Double](repeating: 0, count: n)
        var (jobz, uplo) = (CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")))
        var (order, lda, info) = (Int32(n), Int32(n), Int32(0))
        var workSize = 0.0, iworkSize = Int32(0), workQuery = Int32(-1), iworkQuery = Int32(-1)
        dsyevd_(&jobz, &uplo, &order, &a, &lda, &values, &workSize, &workQuery, &iworkSize, &iworkQuery, &info)
        var lwork = Int32(workSize), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &order, &a, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
        return info == 0 ? (values, a) : nil
    }

    /// tr((A B)^(1/2)) for symmetric positive semi-definite A and B (n x n, row-major): the sum
    /// of the square roots of the eigenvalues of A^(1/2) B A^(1/2). Negative rounding is clamped;
    /// NaN when an eigensolve fails.
    public static func traceOfProductSquareRoot(_ a: [Double], _ b: [Double], n: Int) -> Double {
        guard let eigen = symmetricEigen(a, n: n) else { return .nan }
        let (values, vectors) = eigen
        // A^(1/2) = V^T diag(sqrt(max(v, 0))) V, with V's rows the eigenvectors.
        var root = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let s = max(values[k], 0).squareRoot()
            guard s > 0 else { continue }
            for i in 0..<n {
                let vi = vectors[k * n + i] * s
                for j in 0..<n { root[i * n + j] += vi * vectors[k * n + j] }
            }
        }
        let m = multiply(multiply(root, b, n: n), root, n: n)
        return symmetricEigen(m, n: n)?.values.reduce(0) { $0 + max($1, 0).squareRoot() } ?? .nan
    }

    /// op(A) B for row-major A (m x k, or k x m read transposed when `transposeA`) and B (k x n):
    /// (m x n), by OpenBLAS's dgemm.
    public static func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int, transposeA: Bool = false) -> [Double] {
        precondition(a.count == m * k && b.count == k * n,
                     "LinearAlgebra.product: \(a.count) and \(b.count) values for [\(m), \(k)] x [\(k), \(n)]")
        var c = [Double](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(transposeA ? m : k), b, Int32(n), 0, &c, Int32(n))
        return c
    }

    /// The product of two n x n row-major matrices.
    public static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }
}
