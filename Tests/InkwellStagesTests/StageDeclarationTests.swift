import Foundation
import InkwellDataset
import InkwellPipeline
import InkwellStages
import InkwellTraining
import XCTest

/// Each stage's parameters are declared once; the trainer's defaults, the ingest options and the
/// strategy listings come from the same declarations.
final class StageDeclarationTests: XCTestCase {
    func testTrainDefaultsAreTheConfigurationDefaults() throws {
        let specs = TrainStage.parameters
        let defaults = try specs.resolve([:]) { $0 }
        XCTAssertEqual(try TrainStage.configuration(defaults), TrainingConfiguration())
        XCTAssertTrue(TrainStage.validate(defaults).isEmpty)
        XCTAssertEqual(specs[named: "batch"].defaultValue, .int(TrainingConfiguration().batch))
        XCTAssertEqual(StrategyChoice(specs[named: "kld"].defaultValue), TrainingConfiguration().kld)
    }

    func testTrainProblemsNameTheirParameter() throws {
        let p = try TrainStage.parameters.resolve(["batch": .int(1), "lr_encoder": .double(-1), "beta": .strategy(StrategyChoice(name: "nope"))]) { $0 }
        let problems = TrainStage.validate(p)
        XCTAssertEqual(problems.map(\.parameter), ["batch", "lr_encoder", "beta"])
        XCTAssertEqual(problems[0].message, "batch must be at least 2 (batch statistics), got 1")
        XCTAssertTrue(problems[2].message.hasPrefix("unknown beta strategy 'nope' (known: "), problems[2].message)
    }

    func testIngestDefaultsAreTheLibraryDefaults() throws {
        let options = IngestStage.options(try IngestStage.parameters.resolve([:]) { $0 })
        let library = IngestOptions()
        XCTAssertEqual(options.width, library.width)
        XCTAssertEqual(options.height, library.height)
        XCTAssertEqual(options.scaler, library.scaler)
        XCTAssertEqual(options.aspect, library.aspect)
        XCTAssertEqual(options.testFraction, library.testFraction)
        XCTAssertEqual(options.shardFrames, library.shardFrames)
        XCTAssertEqual(options.jobs, library.jobs)
        XCTAssertNil(options.crop)
    }

    func testFrameSizeParsing() {
        XCTAssertTrue(IngestStage.parseSize("121x65")! == (121, 65))
        XCTAssertTrue(IngestStage.parseSize("16384X1")! == (16384, 1))
        for bad in ["121", "121x", "x65", "0x65", "121x65x1", "16385x65", "121by65", "-1x5"] {
            XCTAssertNil(IngestStage.parseSize(bad), bad)
        }
        XCTAssertThrowsError(try IngestStage.parameters.resolve(["size": .string("12")]) { "--" + $0 }) { error in
            XCTAssertEqual("\(error)", "--size must be WIDTHxHEIGHT (e.g. 121x65), got 12")
        }
    }

    func testStrategyListingComesFromTheStrategiesThemselves() {
        let registry = StageRegistry()
        BuiltinStages.register(into: registry)
        for entry in StrategyRegistry.entries {
            let descriptor = registry.strategy(family: entry.family, name: entry.name)
            XCTAssertEqual(descriptor?.documentation, entry.documentation)
            XCTAssertFalse(entry.documentation.isEmpty, "\(entry.family)/\(entry.name) has no documentation")
            XCTAssertEqual(descriptor?.parameters.map(\.name), entry.defaults.keys.sorted())
        }
    }
}
