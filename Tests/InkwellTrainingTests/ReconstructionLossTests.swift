import Foundation
import InkwellEngine
import InkwellTestSupport
import InkwellTraining
import XCTest

/// The reconstruction loss strategies, per-optimizer learning rates and warm-up.
final class ReconstructionLossTests: XCTestCase {
    func testFeatureAndPixelLossAddsTheWeightedPixelError() throws {
        var generator = RandomGenerator(seed: 11)
        let images = Tensor.uniform([2, 3, 4, 5], low: -1, high: 1, using: &generator)
        let reconstruction = Tensor.uniform([2, 3, 4, 5], low: -1, high: 1, using: &generator)
        let features = Tensor(scalar: 0.25)
        var l1 = 0.0, l2 = 0.0
        for i in 0..<images.count {
            let d = Double(reconstruction.pointer[i] - images.pointer[i])
            l1 += abs(d); l2 += d * d
        }
        (l1, l2) = (l1 / Double(images.count), l2 / Double(images.count))
        let seed = try StrategyRegistry.makeReconstruction(StrategyChoice(name: "feature-matching"))
        XCTAssertEqual(seed.loss(featureMatching: features, reconstruction: reconstruction, images: images).item, 0.25)
        for (norm, pixel) in [("l1", l1), ("l2", l2)] {
            let loss = try StrategyRegistry.makeReconstruction(StrategyChoice(
                name: "feature-matching+pixel", parameters: ["norm": .string(norm), "weight": .double(3), "features": .double(0.5)]))
            XCTAssertEqual(Double(loss.loss(featureMatching: features, reconstruction: reconstruction, images: images).item),
                           0.125 + 3 * pixel, accuracy: 1e-5, norm)
        }
        XCTAssertThrowsError(try StrategyRegistry.makeReconstruction(StrategyChoice(name: "feature-matching+pixel", parameters: ["norm": .string("l3")]))) {
            XCTAssertTrue("\($0)".contains("feature-matching+pixel"), "\($0)")
        }
        XCTAssertThrowsError(try StrategyRegistry.makeReconstruction(StrategyChoice(name: "pixels"))) {
            XCTAssertTrue("\($0)".contains("unknown reconstruction loss 'pixels'"), "\($0)")
        }
    }

    func testLearningRatesPerOptimizerAndWarmup() throws {
        var config = TrainingConfiguration()
        config.learningRate = 1e-4
        config.learningRates = PartLearningRates(encoder: 1e-3, decoder: 2e-3)
        config.warmup = 4
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 0), 2.5e-4, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "decoder", stepsDone: 1), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "discriminator", stepsDone: 3), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 40), 1e-3, accuracy: 1e-12)
        config.decay = .cosine
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 0, totalSteps: 104), 2.5e-4, accuracy: 1e-12, "warm-up first")
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 4, totalSteps: 104), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 54, totalSteps: 104), 5e-4, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "decoder", stepsDone: 79, totalSteps: 104), 2e-3 * 0.5 * (1 + cos(0.75 * Double.pi)), accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 104, totalSteps: 104), 0, accuracy: 1e-12)
        XCTAssertEqual(config.learningRate(of: "encoder", stepsDone: 54), 1e-3, accuracy: 1e-12, "no decay without a length")
        config.learningRates.discriminator = -1
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("lr_discriminator"), "\($0)") }
    }

    /// The strategy named in a configuration file is the one the trainer uses: the same run with
    /// a pixel term ends with other weights, and config.json records its parameters.
    func testTheTrainerUsesTheConfiguredReconstructionLoss() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let file = dir.appendingPathComponent("config.yaml")
        try """
        reconstruction: {name: feature-matching+pixel, norm: l2, weight: 2}
        lr_decoder: 0.001
        warmup: 2
        """.write(to: file, atomically: true, encoding: .utf8)
        let loaded = try TrainingConfiguration.load(from: file)
        XCTAssertEqual(loaded.reconstruction.name, "feature-matching+pixel")
        XCTAssertEqual(loaded.learningRates.decoder, 0.001)
        XCTAssertEqual(loaded.warmup, 2)

        func train(_ reconstruction: StrategyChoice, _ name: String) throws -> [Float] {
            var config = tinyConfiguration(steps: 3, evalEvery: 3)
            config.reconstruction = reconstruction
            let run = dir.appendingPathComponent(name)
            let trainer = try Trainer(configuration: config.resolved(), runDirectory: run,
                                      train: TensorBatches(images: syntheticFrames(12), batchSize: 4),
                                      test: nil, resume: false)
            try trainer.run()
            return trainer.model.decoder.parameters.flatMap(\.values)
        }
        let seed = try train(StrategyChoice(name: "feature-matching"), "seed")
        let pixel = try train(loaded.reconstruction, "pixel")
        XCTAssertNotEqual(seed, pixel)
        let written = try String(contentsOf: dir.appendingPathComponent("pixel/config.json"), encoding: .utf8)
        XCTAssertTrue(written.contains("\"norm\" : \"l2\"") && written.contains("feature-matching+pixel"), written)
    }
}
