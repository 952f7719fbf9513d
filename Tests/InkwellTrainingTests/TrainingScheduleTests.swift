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
}
