import Foundation
import InkwellEngine

/// PyTorch's default initialisers, drawing from the generator the caller passes (a model's
/// layers, built in order from one seeded generator, are reproducible: `VAEGAN(widths:seed:)`).
public enum Initialization {
    /// kaiming_uniform_(a: sqrt(5)), PyTorch's default for conv and linear weights:
    /// uniform(-b, b) with b = sqrt(6 / ((1 + a^2) fan_in)) = 1 / sqrt(fan_in).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, using generator: inout RandomGenerator) -> Tensor {
        let gain = (2.0 / (1 + 5.0)).squareRoot()
        let bound = Float(gain * (3.0 / Double(fanIn)).squareRoot())
        return uniform(shape, bound: bound, using: &generator)
    }

    /// uniform(-bound, bound), as a parameter.
    public static func uniform(_ shape: [Int], bound: Float, using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor.uniform(shape, low: -bound, high: bound, using: &generator)
        t.requiresGrad = true
        return t
    }

    /// PyTorch's bias default: uniform(+-1/sqrt(fan_in)).
    public static func bias(_ count: Int, fanIn: Int, using generator: inout RandomGenerator) -> Tensor {
        uniform([count], bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0, using: &generator)
    }

    /// A parameter filled with `value`.
    public static func constant(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(repeating: value, shape: shape, requiresGrad: true)
    }
}
