import Foundation

/// Raw elementwise loops over contiguous buffers, threaded for large sizes. Ops build on these;
/// nothing here touches autograd.
public enum Kernels {
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRanges(n) { r in for i in r { out[i] = a[i] + b[i] } }
    }

    public static func sub(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRanges(n) { r in for i in r { out[i] = a[i] - b[i] } }
    }

    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRanges(n) { r in for i in r { out[i] = a[i] * b[i] } }
    }

    /// out = a * s
    public static func scale(_ a: UnsafePointer<Float>, _ s: Float, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRanges(n) { r in for i in r { out[i] = a[i] * s } }
    }

    /// y += a * x
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Parallel.forRanges(n) { r in for i in r { y[i] += a * x[i] } }
    }

    /// out[i] = f(a[i])
    @inlinable
    public static func map(_ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float) -> Float) {
        Parallel.forRanges(n, grain: 16_384) { r in for i in r { out[i] = f(a[i]) } }
    }

    /// out[i] = f(a[i], b[i])
    @inlinable
    public static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                           _ f: (Float, Float) -> Float) {
        Parallel.forRanges(n, grain: 16_384) { r in for i in r { out[i] = f(a[i], b[i]) } }
    }

    /// Sum in double precision.
    public static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += Double(a[i]) }
        return s
    }
}
