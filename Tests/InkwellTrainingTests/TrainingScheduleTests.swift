import InkwellEngine
import InkwellTraining
import XCTest

/// `TrainingSchedule.run`: the step computes with PyTorch's lowering of every convolution
/// (no Winograd), except the logged pixel-error pass; outside a step the faster paths return.
final class TrainingScheduleTests: XCTestCase {
    func testRunComputesEverySubUpdateWithReferenceRounding() throws {
        let model = try VAEGAN(widths: tinyWidths)
        let context = StepContext(model: model, optimizers: VAEGANOptimizers(model: model), kld: MovingBatchKLD(), beta: DualGradientBeta())
        var seen: [Int: Bool] = [:]
        context.gradientObserver = { number, _ in seen[number] = ConvolutionLowering.referenceRounding }
        XCTAssertFalse(ConvolutionLowering.referenceRounding)
        let result = try SeedSchedule().run(context, images: syntheticFrames(4), noise: SeededNoise(seed: 3))
        XCTAssertEqual(seen, [1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true])
        XCTAssertFalse(ConvolutionLowering.referenceRounding, "the scope ends with the step")
        XCTAssertEqual(Set(result.losses.keys), ["disc_real", "disc_recon", "gen_recon", "disc_fake", "gen_fake", "feats", "kld", "pixel"])
        XCTAssertTrue(result.losses.values.allSatisfy(\.isFinite))
    }

    /// `adversarial` weights the decoder's adversarial sub-updates (3 and 5) and nothing else: from
    /// the same weights and noise, their gradients scale by it and sub-update 1's are unchanged.
    func testAdversarialWeightScalesOnlyTheDecodersAdversarialGradients() throws {
        func gradients(_ weight: Double) throws -> [Int: [Float]] {
            let model = try VAEGAN(widths: tinyWidths, seed: 5)
            let context = StepContext(model: model, optimizers: VAEGANOptimizers(model: model), kld: MovingBatchKLD(), beta: DualGradientBeta())
            var seen: [Int: [Float]] = [:]
            context.gradientObserver = { number, parameters in
                seen[number] = parameters.flatMap { $0.grad.map { Array($0.buffer) } ?? [] }
            }
            var parameters = SeedSchedule.Parameters()
            parameters.adversarial = weight
            _ = try SeedSchedule(parameters: parameters).run(context, images: syntheticFrames(4), noise: SeededNoise(seed: 3))
            return seen
        }
        let seed = try gradients(1), weighted = try gradients(0.25)
        XCTAssertEqual(seed[1], weighted[1])
        for number in [3, 5] {
            let a = try XCTUnwrap(seed[number]), b = try XCTUnwrap(weighted[number])
            XCTAssertEqual(a.count, b.count)
            let largest = a.map(abs).max() ?? 0
            XCTAssertGreaterThan(largest, 0)
            // Sub-update 3 scales exactly; 5 follows an Adam step whose eps makes it near-exact.
            for (x, y) in zip(a, b) { XCTAssertEqual(y, x * 0.25, accuracy: 1e-4 * largest) }
        }
    }
}
