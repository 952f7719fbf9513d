/// Vectorised sums over contiguous runs of floats, for the normalisation ops. Each run is summed
/// in 16 float lanes (a run of a few thousand values puts a few hundred terms in each lane) and
/// the lanes are added in double precision; the caller accumulates runs in double precision.
enum VectorSums {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func lanes(_ v: SIMD16<Float>) -> Double {
        var s = 0.0
        for lane in 0..<16 { s += Double(v[lane]) }
        return s
    }

    /// sum(p[0..<n])
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= n { acc += load(p, i); i += 16 }
        var s = lanes(acc)
        while i < n { s += Double(p[i]); i += 1 }
        return s
    }

    /// sum((p[i] - mean)^2)
    @inline(__always)
    static func squaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Double {
        var acc = SIMD16<Float>(repeating: 0)
        let m = SIMD16<Float>(repeating: mean)
        var i = 0
        while i + 16 <= n { let d = load(p, i) - m; acc.addProduct(d, d); i += 16 }
        var s = lanes(acc)
        while i < n { let d = Double(p[i] - mean); s += d * d; i += 1 }
        return s
    }

    /// (sum(g), sum(g * (x - mean) * invstd))
    @inline(__always)
    static func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int,
                             mean: Float, invstd: Float) -> (Double, Double) {
        var a1 = SIMD16<Float>(repeating: 0), a2 = SIMD16<Float>(repeating: 0)
        let m = SIMD16<Float>(repeating: mean), inv = SIMD16<Float>(repeating: invstd)
        var i = 0
        while i + 16 <= n {
            let gv = load(g, i)
            a1 += gv
            a2.addProduct(gv, (load(x, i) - m) * inv)
            i += 16
        }
        var s1 = lanes(a1), s2 = lanes(a2)
        while i < n {
            s1 += Double(g[i])
            s2 += Double(g[i]) * Double((x[i] - mean) * invstd)
            i += 1
        }
        return (s1, s2)
    }

    /// gx[i] = a * (g[i] - mg - (x[i] - mean) * invstd * mgx)
    @inline(__always)
    static func normalizationGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                                      _ n: Int, a: Float, mg: Float, mgx: Float, mean: Float, invstd: Float) {
        let va = SIMD16<Float>(repeating: a), vmg = SIMD16<Float>(repeating: mg), vmgx = SIMD16<Float>(repeating: mgx)
        let m = SIMD16<Float>(repeating: mean), inv = SIMD16<Float>(repeating: invstd)
        var i = 0
        while i + 16 <= n {
            let xhat = (load(x, i) - m) * inv
            store(va * (load(g, i) - vmg - xhat * vmgx), gx, i)
            i += 16
        }
        while i < n {
            let xhat = (x[i] - mean) * invstd
            gx[i] = a * (g[i] - mg - xhat * mgx)
            i += 1
        }
    }
}
