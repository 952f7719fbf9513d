import XCTest
@testable import InkwellEngine

/// Finite-difference gradient checking.
///
/// For a function f of several tensors, the scalar L = sum(f(inputs) * G) with a fixed random G
/// is differentiated two ways: by the engine's autograd, and by central differences
/// (L(x + h e_i) - L(x - h e_i)) / 2h per element, with L summed in double precision. The engine
/// computes in float32, so h is 1e-2 by default and the tolerance is on the relative L2 error of
/// each input's whole gradient (default 2e-3): far below what a wrong backward gives (O(1)).
enum GradientCheck {
    struct Failure: CustomStringConvertible {
        let input: Int
        let error: Double
        var description: String { "input \(input): relative L2 error \(error)" }
    }

    /// L = sum(output * G) in double precision (G broadcast when output is one element).
    static func weightedSum(_ output: Tensor, _ g: [Float]) -> Double {
        var s = 0.0
        for (i, v) in output.values.enumerated() { s += Double(v) * Double(g[i]) }
        return s
    }

    /// Checks every input that requires grad; returns the worst relative error per input.
    @discardableResult
    static func check(_ inputs: [Tensor], h: Float = 1e-2, tolerance: Double = 2e-3, seed: UInt64 = 7,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Tensor]) -> Tensor) -> [Double] {
        var generator = RandomGenerator(seed: seed)
        // Autograd.
        for t in inputs { t.grad = nil }
        let output = f(inputs)
        let g = Tensor.uniform(output.shape, low: 0.5, high: 1.5, using: &generator)
        // Random signs keep the weighting general while avoiding near-zero weights.
        for i in 0..<g.count where generator.nextUniform() < 0.5 { g.pointer[i] = -g.pointer[i] }
        let gValues = g.values
        XCTAssertTrue(output.requiresGrad, "output does not require grad", file: file, line: line)
        output.backward(g)
        var errors: [Double] = []
        for (index, input) in inputs.enumerated() where input.requiresGrad {
            guard let analytic = input.grad else {
                XCTFail("input \(index) got no gradient", file: file, line: line)
                continue
            }
            XCTAssertEqual(analytic.shape, input.shape, file: file, line: line)
            var numeric = [Double](repeating: 0, count: input.count)
            withoutGrad {
                for i in 0..<input.count {
                    let original = input.pointer[i]
                    input.pointer[i] = original + h
                    let plus = weightedSum(f(inputs), gValues)
                    input.pointer[i] = original - h
                    let minus = weightedSum(f(inputs), gValues)
                    input.pointer[i] = original
                    numeric[i] = (plus - minus) / (2 * Double(h))
                }
            }
            var diff = 0.0, norm = 0.0
            for i in 0..<input.count {
                let d = Double(analytic.pointer[i]) - numeric[i]
                diff += d * d
                norm += numeric[i] * numeric[i]
            }
            let error = norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
            errors.append(error)
            XCTAssertLessThanOrEqual(error, tolerance, "input \(index) \(Shape.describe(input.shape)): autograd vs central differences", file: file, line: line)
            XCTAssertGreaterThan(norm, 0, "input \(index): the numeric gradient is zero, so the check proves nothing", file: file, line: line)
        }
        return errors
    }

    /// A leaf with values uniform in [low, high).
    static func leaf(_ shape: [Int], _ low: Float = -1, _ high: Float = 1, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        let t = Tensor.uniform(shape, low: low, high: high, using: &generator)
        t.requiresGrad = true
        return t
    }

    /// A leaf whose values are at least `margin` away from every point in `kinks` (for
    /// piecewise-linear ops whose derivative jumps there).
    static func leafAvoiding(_ shape: [Int], kinks: [Float], margin: Float = 0.05, seed: UInt64) -> Tensor {
        let t = leaf(shape, -2, 2, seed: seed)
        for i in 0..<t.count {
            for k in kinks where abs(t.pointer[i] - k) < margin {
                t.pointer[i] = t.pointer[i] < k ? k - margin - 0.01 : k + margin + 0.01
            }
        }
        return t
    }
}
