import Foundation

/// Matrix products with very few rows in the result (a convolution with 3 output channels):
/// OpenBLAS's sgemm packs the whole wide operand for a handful of rows and its sgemv streams it
/// once per row, both far below the machine's rate. These kernels stream the wide operand once,
/// updating every row at each step, threaded over the wide dimension.
enum SmallRowsProduct {
    static let maxRows = 4

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// C (m x n) = alpha * A (m x k) * B^T + beta * C, with B (n x k) row-major; m <= 4.
    static func timesTransposed(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 1 && m <= maxRows)
        let vectorEnd = k & ~7
        Parallel.forRanges(n, grain: 8) { rows in
            for r in rows {
                let br = b + r * ldb
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var j = 0
                while j < vectorEnd {
                    let v = load(br + j)
                    s0 += v * load(a + j)
                    if m > 1 { s1 += v * load(a + lda + j) }
                    if m > 2 { s2 += v * load(a + 2 * lda + j) }
                    if m > 3 { s3 += v * load(a + 3 * lda + j) }
                    j += 8
                }
                var sums = [s0.sum(), s1.sum(), s2.sum(), s3.sum()]
                while j < k {
                    for i in 0..<m { sums[i] += br[j] * a[i * lda + j] }
                    j += 1
                }
                for i in 0..<m {
                    let out = c + i * ldc + r
                    out.pointee = alpha * sums[i] + (beta == 0 ? 0 : beta * out.pointee)
                }
            }
        }
    }

    /// C (m x n) = alpha * A (m x k) * B (k x n) + beta * C, row-major; m <= 4.
    static func times(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 1 && m <= maxRows)
        let block = 512
        let blocks = (n + block - 1) / block
        Parallel.forRanges(blocks, grain: 1) { range in
            for blockIndex in range {
                let c0 = blockIndex * block, c1 = min(n, c0 + block)
                let vectorEnd = c0 + ((c1 - c0) & ~7)
                for i in 0..<m {
                    let row = c + i * ldc
                    if beta == 0 { (row + c0).update(repeating: 0, count: c1 - c0) } else if beta != 1 {
                        for col in c0..<c1 { row[col] *= beta }
                    }
                }
                for r in 0..<k {
                    let br = b + r * ldb
                    let w0 = alpha * a[r], w1 = m > 1 ? alpha * a[lda + r] : 0
                    let w2 = m > 2 ? alpha * a[2 * lda + r] : 0, w3 = m > 3 ? alpha * a[3 * lda + r] : 0
                    var col = c0
                    while col < vectorEnd {
                        let v = load(br + col)
                        store(load(c + col) + v * w0, c + col)
                        if m > 1 { store(load(c + ldc + col) + v * w1, c + ldc + col) }
                        if m > 2 { store(load(c + 2 * ldc + col) + v * w2, c + 2 * ldc + col) }
                        if m > 3 { store(load(c + 3 * ldc + col) + v * w3, c + 3 * ldc + col) }
                        col += 8
                    }
                    while col < c1 {
                        let v = br[col]
                        c[col] += v * w0
                        if m > 1 { c[ldc + col] += v * w1 }
                        if m > 2 { c[2 * ldc + col] += v * w2 }
                        if m > 3 { c[3 * ldc + col] += v * w3 }
                        col += 1
                    }
                }
            }
        }
    }
}
