import Foundation
import InkwellGolden
import InkwellTestSupport
import XCTest

/// The whole training step against PyTorch's (../shared/golden/train_step.*), and against a set
/// of other widths that scripts/golden-sweep wrote (Fixtures/train-step-odd-widths: odd channel
/// counts, batch 3, every sub-update's gradients; a set that PyTorch float32 passes from its own
/// inputs and from four 1-ulp nudges of them).
final class GoldenTrainStepTests: XCTestCase {
    func testTrainStepAndEachSubUpdatesGradientsMatchPyTorchAtOtherWidths() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/train-step-odd-widths")
        let results = try TrainStepGolden.run(directory: directory)
        XCTAssertEqual(results.map(\.name), ["train_step", "train_step_gradients"])
        for result in results {
            print(result.summaryLine)
            XCTAssertTrue(result.passed, result.summaryLine)
        }
        // All seven sub-updates' gradients were compared, each optimizer's parameters where it steps.
        let gradients = results[1].errors.map(\.tensor)
        XCTAssertEqual(Set(gradients.map { $0.split(separator: ".")[1] }), ["1", "2", "3", "4", "5", "6", "7"])
        XCTAssertTrue(gradients.contains("grad.6.vae.encoder.convs.0.1.weight"))
        XCTAssertTrue(gradients.contains("grad.4.discriminator.fc.2.bias"))
        XCTAssertLessThan(results[1].worstError, 1e-5, "gradients are well-conditioned: PyTorch float32 lands near 3e-6")
    }

    func testTrainStepMatchesPyTorch() throws {
        let json = try SharedFixtures.require("golden/train_step.json")
        let results = try TrainStepGolden.run(directory: json.deletingLastPathComponent())
        XCTAssertEqual(results.count, 1)
        for result in results {
            print(result.summaryLine)
            for e in result.errors where e.error > e.tolerance || e.error.isNaN {
                print("  over tolerance: \(e.tensor) \(e.error) > \(e.tolerance)")
            }
            XCTAssertTrue(result.passed, result.summaryLine)
        }
    }
}
