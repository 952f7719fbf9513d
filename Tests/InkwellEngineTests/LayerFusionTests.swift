import XCTest
import InkwellEngine
import InkwellNN

/// `Sequential` runs an instance norm and the leaky ReLU after it as one op: same values, same
/// gradients (to rounding), half the memory kept for the backward.
final class LayerFusionTests: XCTestCase {
    func testInstanceNormThenLeakyReLUMatchesTheTwoLayers() {
        var generator = RandomGenerator(seed: 11)
        let x = Tensor.uniform([3, 4, 5, 6], low: -2, high: 2, using: &generator)
        let upstream = Tensor.uniform(x.shape, low: -1, high: 1, using: &generator)
        let norm = InstanceNorm2d(), activation = LeakyReLU(negativeSlope: 0.01)

        let fusedInput = Tensor(shape: x.shape, storage: x.clone().storage, requiresGrad: true)
        let fused = Sequential(norm, activation)(fusedInput)
        fused.backward(upstream)

        let separateInput = Tensor(shape: x.shape, storage: x.clone().storage, requiresGrad: true)
        let separate = activation(norm(separateInput))
        separate.backward(upstream)

        XCTAssertEqual(fused.values, separate.values, "the fused forward is the two ops' arithmetic")
        let (a, b) = (fusedInput.grad!.values, separateInput.grad!.values)
        let worst = zip(a, b).map { abs($0 - $1) }.max()!
        let scale = b.map(abs).max()!
        XCTAssertLessThan(worst, 1e-5 * scale, "gradients agree to rounding")
        XCTAssertGreaterThan(scale, 0)
    }

    func testOtherLayerPairsRunUnfused() {
        // An instance norm followed by something else is the plain op.
        let x = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 5])
        let y = Sequential(InstanceNorm2d(), ReLU())(x)
        XCTAssertEqual(y.values, instanceNorm2d(x).relu().values)
    }
}
