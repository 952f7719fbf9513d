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

    /// OpenBLAS reads its settings from the environment once, when the library initialises, so
    /// they cannot be changed from inside a running process. This sets the two that matter for
    /// the engine and re-executes the running program (same arguments) when either was missing;
    /// otherwise it returns and nothing changes. Call it first thing in a program that does heavy
    /// products (`inkwell` does, for every command). Set the variables yourself to opt out.
    ///
    /// - `OPENBLAS_THREAD_TIMEOUT=4`: OpenBLAS's idle threads spin (calling `sched_yield`) for
    ///   about 2^28 cycles after each product before they sleep. Between the engine's products
    ///   its own loops (im2col, normalisation, Adam) run on the same cores, and the spinning
    ///   threads took a fifth of the CPU time of a training step as system time. 2^4 cycles puts
    ///   them to sleep at once; waking them costs microseconds per product of milliseconds.
    ///   Measured (`inkwell bench train`, 2 cores): 44.8 s -> 35.2 s of system time over 3 steps.
    /// - `OPENBLAS_CORETYPE=SkylakeX`, only when OpenBLAS picked its AVX2 "Haswell" (or "Zen")
    ///   kernels on a CPU with AVX-512F, where its AVX-512 kernels are meant to be faster (on
    ///   the 2-core AMD EPYC of docs/PERFORMANCE.md every kernel family measured the same).
    /// Set beside OPENBLAS_CORETYPE when Inkwell chose it (not the user).
    public static let chosenCoreTypeMarker = "INKWELL_CHOSE_OPENBLAS_CORETYPE"

    /// The OpenBLAS variables that the user (or the workplace) set to force a kernel family,
    /// as "NAME=value" pairs; empty when OpenBLAS (or Inkwell) chose.
    public static var forcedKernelSettings: [String] {
        let environment = ProcessInfo.processInfo.environment
        var forced: [String] = []
        if let core = environment["OPENBLAS_CORETYPE"], environment[chosenCoreTypeMarker] == nil { forced.append("OPENBLAS_CORETYPE=\(core)") }
        if let l2 = environment["OPENBLAS_L2_SIZE"] { forced.append("OPENBLAS_L2_SIZE=\(l2)") }
        return forced
    }

    public static func reexecWithTunedEnvironmentIfNeeded() {
        #if os(Linux)
        let environment = ProcessInfo.processInfo.environment
        var changed = false
        if environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
            changed = true
        }
        let core = coreType.lowercased()
        if environment["OPENBLAS_CORETYPE"] == nil, core == "haswell" || core == "zen", cpuHasAVX512 {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
            setenv(chosenCoreTypeMarker, "1", 1)
            changed = true
        }
        guard changed else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: carry on with the settings already in force.
        #endif
    }
}
