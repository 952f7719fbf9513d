import COpenBLAS
import Foundation

/// The matrix products, by OpenBLAS.
public enum BLAS {
    /// OpenBLAS's thread count.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel family OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX").
    public static var coreType: String { String(cString: openblas_get_corename()) }

    /// Large products with at most this many rows (and A not transposed) run in
    /// `SmallRowsProduct` rather than sgemm.
    public static let smallRowLimit = 4

    /// C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is M x K, op(B) is K x N.
    public static func gemm(transA: Bool = false, transB: Bool = false,
                            m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * ldc) }
            return
        }
        if m <= smallRowLimit, !transA, n * k >= 1 << 16 {
            // A product with very few rows (a 3-channel convolution) runs far below sgemm's rate
            // in OpenBLAS; stream the wide operand once instead.
            if transB {
                SmallRowsProduct.timesTransposed(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            } else {
                SmallRowsProduct.times(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension BLAS {
    /// Whether the CPU advertises AVX-512F (read from /proc/cpuinfo; false where it is absent).
    public static var cpuHasAVX512: Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512f") }
    }

    /// OpenBLAS chooses its kernels once, when the library initialises, and on some AVX-512 CPUs
    /// it picks the AVX2 "Haswell" (or "Zen") family although its "SkylakeX" kernels are about
    /// 1.8x faster there. When that happened, the CPU has AVX-512F and `OPENBLAS_CORETYPE` is not
    /// set, this re-executes the running program (same arguments) with
    /// `OPENBLAS_CORETYPE=SkylakeX`; otherwise it returns and nothing changes. Call it first
    /// thing in a command that does heavy products. Set `OPENBLAS_CORETYPE` to opt out.
    public static func reexecWithAVX512KernelsIfBeneficial() {
        #if os(Linux)
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
        let core = coreType.lowercased()
        guard core == "haswell" || core == "zen", cpuHasAVX512 else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: carry on with the kernels already chosen.
        unsetenv("OPENBLAS_CORETYPE")
        #endif
    }
}
