import Foundation

/// A seeded, reproducible random generator (xoshiro256**) whose whole state can be saved in a
/// checkpoint and restored. Normals come from the Box-Muller transform.
public struct RandomGenerator: RandomNumberGenerator, Codable, Sendable, Equatable {
    public var state: [UInt64]

    public init(seed: UInt64) {
        // SplitMix64 expands the seed into the four state words.
        var x = seed
        var words: [UInt64] = []
        for _ in 0..<4 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            words.append(z ^ (z >> 31))
        }
        state = words
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Shuffles `items` in place (Fisher-Yates, from the last element down, each swap partner drawn
    /// as `next() % (i + 1)`): the same seed gives the same order on every machine and Swift
    /// version, which the standard library's `shuffle(using:)` does not promise.
    public mutating func shuffle<T>(_ items: inout [T]) {
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, Int(next() % UInt64(i + 1))) }
    }

    /// Uniform in [0, 1).
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Fills `out` with standard normal draws.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i < n {
            let u1 = max(nextUniform(), Double.leastNonzeroMagnitude)
            let u2 = nextUniform()
            let r = (-2 * Foundation.log(u1)).squareRoot()
            out[i] = Float(r * cos(2 * .pi * u2))
            if i + 1 < n { out[i + 1] = Float(r * sin(2 * .pi * u2)) }
            i += 2
        }
    }

    /// Fills `out` with draws uniform in [low, high).
    public mutating func fillUniform(_ out: UnsafeMutablePointer<Float>, _ n: Int, low: Float, high: Float) {
        for i in 0..<n { out[i] = low + (high - low) * Float(nextUniform()) }
    }
}

extension Tensor {
    /// Standard normal draws.
    public static func randn(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor.empty(shape)
        generator.fillNormal(t.pointer, t.count)
        return t
    }

    /// Draws uniform in [low, high).
    public static func uniform(_ shape: [Int], low: Float, high: Float, using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor.empty(shape)
        generator.fillUniform(t.pointer, t.count, low: low, high: high)
        return t
    }
}
