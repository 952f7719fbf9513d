import Foundation
import InkwellGolden
import InkwellTestSupport
import XCTest

/// The whole training step against PyTorch's (../shared/golden/train_step.*).
final class GoldenTrainStepTests: XCTestCase {
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
