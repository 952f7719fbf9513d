import Foundation
import XCTest
import InkwellEngine
import InkwellNN
import InkwellTestSupport

final class OptimizerTests: XCTestCase {
    /// Adam's three golden steps (PyTorch's values), straight from ops.safetensors.
    func testAdamThreeGoldenSteps() throws {
        let url = try SharedFixtures.require("golden/ops.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        let p = try file.tensor("adam.param_before")
        p.requiresGrad = true
        let before = p.values
        let adam = Adam(parameters: [p], learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8)
        for step in 0..<3 {
            p.grad = try file.tensor("adam.grad_\(step)")
            adam.step()
            let reference = try file.tensor("adam.param_after_\(step)").values
            XCTAssertLessThanOrEqual(relativeL2(p.values, reference), 1e-6, "step \(step)")
        }
        // The change itself (small next to the values) matches too.
        let change = zip(p.values, before).map { $0 - $1 }
        let referenceChange = zip(try file.tensor("adam.param_after_2").values, before).map { $0 - $1 }
        XCTAssertLessThanOrEqual(relativeL2(change, referenceChange), 1e-3)
        XCTAssertEqual(adam.steps, [3])
    }

    /// Adam against the formula evaluated in double precision, with a parameter skipped while it
    /// has no gradient (its step count does not advance).
    func testAdamFormulaAndSkippedParameters() {
        let p = Tensor(shape: [3], values: [0.5, -1, 2], requiresGrad: true)
        let idle = Tensor(shape: [1], values: [4], requiresGrad: true)
        let adam = Adam(parameters: [p, idle], learningRate: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-3)
        var m = [Double](repeating: 0, count: 3), v = m
        var expected = p.values.map(Double.init)
        let grads: [[Float]] = [[1, -2, 0.5], [0.3, 0.1, -4], [-1, 1, 1]]
        for (t, g) in grads.enumerated() {
            p.grad = Tensor(shape: [3], values: g)
            adam.step()
            for i in 0..<3 {
                m[i] = 0.8 * m[i] + 0.2 * Double(g[i])
                v[i] = 0.9 * v[i] + 0.1 * Double(g[i]) * Double(g[i])
                let mhat = m[i] / (1 - pow(0.8, Double(t + 1)))
                let vhat = v[i] / (1 - pow(0.9, Double(t + 1)))
                expected[i] -= 0.1 * mhat / (vhat.squareRoot() + 1e-3)
            }
            for i in 0..<3 { XCTAssertEqual(Double(p.values[i]), expected[i], accuracy: 1e-5) }
        }
        XCTAssertEqual(idle.values, [4])
        XCTAssertEqual(adam.steps, [3, 0])
        XCTAssertEqual(adam.stateTensors().map(\.0), ["0.step", "0.exp_avg", "0.exp_avg_sq"])
    }

    func testAdamStateRoundTrip() throws {
        let p = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let a = Adam(parameters: [p])
        p.grad = Tensor(shape: [2], values: [0.5, -0.5])
        a.step(); a.step()
        let q = Tensor(shape: [2], values: p.values, requiresGrad: true)
        let b = Adam(parameters: [q])
        try b.loadState(Dictionary(uniqueKeysWithValues: a.stateTensors()))
        q.grad = p.grad
        a.step(); b.step()
        XCTAssertEqual(p.values, q.values)
        XCTAssertThrowsError(try b.loadState(["0.step": Tensor(scalar: 1)]))
    }

    func testSGDPlainAndMomentum() {
        let p = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let sgd = SGD(parameters: [p], learningRate: 0.5)
        p.grad = Tensor(shape: [2], values: [2, -4])
        sgd.step()
        XCTAssertEqual(p.values, [0, 4])

        let q = Tensor(shape: [1], values: [1], requiresGrad: true)
        let momentum = SGD(parameters: [q], learningRate: 0.1, momentum: 0.9)
        q.grad = Tensor(shape: [1], values: [1])
        momentum.step()   // buf = 1; q = 0.9
        momentum.step()   // buf = 1.9; q = 0.71
        XCTAssertEqual(q.values[0], 0.71, accuracy: 1e-6)
        XCTAssertEqual(momentum.stateTensors().first?.1.values, [1.9])
    }

    func testOptimizerStepAfterBackwardDescends() {
        // Minimise sum((w - 3)^2) with Adam: a real loop through autograd and the optimizer.
        let w = Tensor(shape: [4], values: [0, 1, -2, 5], requiresGrad: true)
        let adam = Adam(parameters: [w], learningRate: 0.1)
        for _ in 0..<300 {
            adam.zeroGrad()
            let loss = ((w - 3).squared()).sum()
            loss.backward()
            adam.step()
        }
        for v in w.values { XCTAssertEqual(v, 3, accuracy: 0.05) }
    }
}

final class InitializationTests: XCTestCase {
    /// PyTorch's defaults: weights kaiming-uniform(a = sqrt(5)), i.e. uniform(+-1/sqrt(fan_in)),
    /// and biases uniform(+-1/sqrt(fan_in)); fan_in of a transposed conv weight (in, out, k, k)
    /// is out * k * k.
    func testDefaultInitialisationBounds() {
        var generator = RandomGenerator(seed: 5)
        func checkUniform(_ t: Tensor, bound: Float, _ what: String) {
            let v = t.values
            XCTAssertTrue(v.allSatisfy { abs($0) <= bound }, "\(what): outside +-\(bound)")
            XCTAssertGreaterThan(v.map(abs).max()!, 0.9 * bound, "\(what): spread too narrow for uniform(+-\(bound))")
            let mean = v.reduce(0, +) / Float(v.count)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)
            if v.count >= 1000 {
                XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.1 * bound * bound / 3, "\(what): variance of uniform")
            }
            XCTAssertTrue(t.requiresGrad, what)
        }
        let conv = Conv2d(16, 32, kernelSize: 5, using: &generator)
        checkUniform(conv.weight, bound: 1 / (16 * 25 as Float).squareRoot(), "conv weight")
        checkUniform(conv.bias!, bound: 1 / (16 * 25 as Float).squareRoot(), "conv bias")
        let deconv = ConvTranspose2d(32, 16, kernelSize: 5, bias: false, using: &generator)
        XCTAssertNil(deconv.bias)
        checkUniform(deconv.weight, bound: 1 / (16 * 25 as Float).squareRoot(), "transposed conv weight")
        let fc = Linear(300, 200, using: &generator)
        checkUniform(fc.weight, bound: 1 / (300 as Float).squareRoot(), "linear weight")
        checkUniform(fc.bias!, bound: 1 / (300 as Float).squareRoot(), "linear bias")
        let bn = BatchNorm2d(4)
        XCTAssertEqual(bn.weight.values, [1, 1, 1, 1])
        XCTAssertEqual(bn.bias.values, [0, 0, 0, 0])
        XCTAssertEqual(bn.running_mean.values, [0, 0, 0, 0])
        XCTAssertEqual(bn.running_var.values, [1, 1, 1, 1])
    }

    func testSeededInitialisationIsReproducible() {
        var first = RandomGenerator(seed: 9), second = RandomGenerator(seed: 9)
        let a = Conv2d(3, 4, kernelSize: 3, using: &first).weight.values
        let b = Conv2d(3, 4, kernelSize: 3, using: &second).weight.values
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(Conv2d(3, 4, kernelSize: 3, using: &first).weight.values, a, "the generator advances")
    }

    func testBatchNormModesAndRunningStatistics() {
        let bn = BatchNorm2d(2, momentum: 0.1)
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.randn([4, 2, 3, 3], using: &generator) * 2 + 1
        _ = bn(x)
        XCTAssertEqual(bn.numBatchesTracked, 1)
        // Channel 0's batch mean and unbiased variance, by hand.
        var values: [Double] = []
        for n in 0..<4 { for i in 0..<9 { values.append(Double(x.values[(n * 2) * 9 + i])) } }
        let mean = values.reduce(0, +) / 36
        let unbiased = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 35
        XCTAssertEqual(Double(bn.running_mean.values[0]), 0.1 * mean, accuracy: 1e-5)
        XCTAssertEqual(Double(bn.running_var.values[0]), 0.9 + 0.1 * unbiased, accuracy: 1e-5)
        bn.eval()
        XCTAssertFalse(bn.training)
        let stats = bn.running_mean.values
        let y = bn(x)
        XCTAssertEqual(bn.running_mean.values, stats, "evaluation leaves running statistics alone")
        XCTAssertEqual(bn.numBatchesTracked, 1)
        let expected = (Double(x.values[0]) - Double(stats[0])) / (Double(bn.running_var.values[0]) + 1e-5).squareRoot()
        XCTAssertEqual(Double(y.values[0]), expected, accuracy: 1e-5)
    }
}

func relativeL2(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, n = 0.0
    for (x, y) in zip(a, b) { d += Double(x - y) * Double(x - y); n += Double(y) * Double(y) }
    return n > 0 ? (d / n).squareRoot() : d.squareRoot()
}
