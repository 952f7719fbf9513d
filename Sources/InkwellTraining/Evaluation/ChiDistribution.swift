import Foundation

/// The chi distribution with `degrees` degrees of freedom: the distance from the origin of a
/// standard normal sample in that many dimensions (the reference for where encoded samples
/// should lie if they followed N(0, I)).
public struct ChiDistribution: Sendable {
    public let degrees: Int
    public init(degrees: Int) { self.degrees = degrees }

    /// P(distance <= r) = P(k / 2, r^2 / 2), the regularized lower incomplete gamma function.
    public func cdf(_ r: Double) -> Double {
        guard r > 0 else { return 0 }
        return regularizedLowerGamma(Double(degrees) / 2, r * r / 2)
    }

    /// The expected fraction of samples in each bin between consecutive `edges`.
    public func binProbabilities(edges: [Double]) -> [Double] {
        zip(edges, edges.dropFirst()).map { max(0, cdf($1) - cdf($0)) }
    }
}

/// P(a, x) by its series for x < a + 1 and its continued fraction otherwise (Numerical Recipes),
/// in log space so large a (latent sizes of 1024 and more) neither overflows nor underflows.
func regularizedLowerGamma(_ a: Double, _ x: Double) -> Double {
    guard x > 0 else { return 0 }
    let logPrefix = a * Foundation.log(x) - x - lgamma(a)
    if x < a + 1 {
        var term = 1 / a, sum = term, n = a
        for _ in 0..<10_000 {
            n += 1
            term *= x / n
            sum += term
            if abs(term) < abs(sum) * 1e-15 { break }
        }
        return min(1, sum * Foundation.exp(logPrefix))
    }
    // Lentz's continued fraction for Q(a, x).
    let tiny = 1e-300
    var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
    for i in 1..<10_000 {
        let an = -Double(i) * (Double(i) - a)
        b += 2
        d = an * d + b
        if abs(d) < tiny { d = tiny }
        c = b + an / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return max(0, 1 - Foundation.exp(logPrefix) * h)
}
