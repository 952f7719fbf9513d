import Foundation
import InkwellDataset
import InkwellEngine
import InkwellNN
import InkwellTestSupport
import InkwellTraining
import XCTest

/// Models from the three forms (run directory, checkpoint folder, bare state dict), widths read
/// from shapes, the combined mismatch error, and `train --init`'s fresh start.
final class ModelLoadingTests: XCTestCase {
    /// A tiny run trained `steps` steps into a fresh folder.
    func trainedRun(steps: Int = 2) throws -> (Trainer, URL) {
        let dir = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("run")
        let trainer = try Trainer(configuration: tinyConfiguration(steps: steps, evalEvery: 2), runDirectory: dir,
                                  train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)
        try trainer.run()
        return (trainer, dir)
    }

    /// The model's state as PyTorch names it, without Inkwell's metadata (and without the
    /// `num_batches_tracked` counters unless `counters`).
    func writeBare(_ model: VAEGAN, to url: URL, counters: Bool) throws {
        try SafeTensors.write(items: model.stateItems().filter { counters || !$0.0.hasSuffix("num_batches_tracked") }, to: url)
    }

    func testEveryFormLoadsTheSameWeights() throws {
        let (trainer, run) = try trainedRun()
        let latest = run.appendingPathComponent("checkpoints/latest")
        let bare = run.deletingLastPathComponent().appendingPathComponent("bare.safetensors")
        try writeBare(trainer.model, to: bare, counters: false)
        let expected = trainer.model.stateTensors().map(\.1.values)
        for source in [run, latest, latest.appendingPathComponent("model.safetensors"), bare] {
            let loaded = try LoadedModel(source, frame: [9, 13])
            XCTAssertEqual(loaded.widths, tinyWidths, source.path)
            XCTAssertFalse(loaded.model.training)
            XCTAssertEqual(loaded.model.stateTensors().map(\.1.values), expected, source.path)
        }
        XCTAssertEqual(try LoadedModel(run).step, 2)
        XCTAssertEqual(try LoadedModel(bare, frame: [9, 13]).step, 0)
        XCTAssertEqual(try LoadedModel(bare, frame: [9, 13]).model.stateCounters().map(\.1), [0, 0], "missing counters read as 0")
        XCTAssertEqual(try LoadedModel(run).model.stateCounters().map(\.1), [8, 8], "4 training-mode passes per step")
    }

    func testWidthsAreInferredFromShapesAndMetadata() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        // Inkwell's own file records its widths: no frame needed.
        let (_, run) = try trainedRun(steps: 1)
        let own = try SafeTensorsFile(contentsOf: run.appendingPathComponent("checkpoints/latest/model.safetensors"))
        XCTAssertNotNil(own.metadata[ModelWidths.metadataKey])
        XCTAssertEqual(try ModelWidths.infer(from: own), tinyWidths)

        // A bare file at 9 x 16 needs nothing else.
        let narrow = dir.appendingPathComponent("narrow.safetensors")
        try writeBare(try VAEGAN(widths: .narrow), to: narrow, counters: true)
        XCTAssertEqual(try ModelWidths.infer(from: SafeTensorsFile(contentsOf: narrow)), .narrow)

        // Another feature map comes from the frames, or is an error naming the file.
        let tiny = dir.appendingPathComponent("tiny.safetensors")
        try writeBare(try VAEGAN(widths: tinyWidths), to: tiny, counters: true)
        XCTAssertEqual(try ModelWidths.infer(from: SafeTensorsFile(contentsOf: tiny), frame: [9, 13]), tinyWidths)
        XCTAssertThrowsError(try LoadedModel(tiny)) { error in
            XCTAssertTrue("\(error)".contains("\(tiny.path): cannot tell the feature map"), "\(error)")
        }
        // Widths that do not fit the frames: one line naming the file.
        XCTAssertThrowsError(try LoadedModel(narrow, frame: [9, 13])) { error in
            XCTAssertTrue("\(error)".contains("\(narrow.path): the model does not fit the frames"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testAFileThatFitsNoModelListsEveryProblemAtOnce() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        var items = try VAEGAN(widths: .narrow).stateItems()
        items.removeAll { $0.0 == "vae.encoder.convs.1.2.bias" }
        items.append(("vae.encoder.extra.weight", .float(Tensor(zeros: [2]))))
        let index = items.firstIndex { $0.0 == "discriminator.fc.2.weight" }!
        items[index] = ("discriminator.fc.2.weight", .float(Tensor(zeros: [1, 7])))
        let url = dir.appendingPathComponent("broken.safetensors")
        try SafeTensors.write(items: items, to: url)
        XCTAssertThrowsError(try LoadedModel(url)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("\(url.path): does not fit the model (3 problems)"), message)
            XCTAssertTrue(message.contains("'vae.encoder.convs.1.2.bias' missing"), message)
            XCTAssertTrue(message.contains("'vae.encoder.extra.weight' unknown to the module"), message)
            XCTAssertTrue(message.contains("'discriminator.fc.2.weight' shape [1, 7] does not match the module's [1, 32]"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }

    func testInitStartsFreshWithTheWeightsAndRecordsTheirDigest() throws {
        let (first, run) = try trainedRun(steps: 2)
        let weights = run.appendingPathComponent("checkpoints/latest/model.safetensors")
        let bare = run.deletingLastPathComponent().appendingPathComponent("bare.safetensors")
        try writeBare(first.model, to: bare, counters: false)
        let resumed = try Trainer(configuration: tinyConfiguration(steps: 4, evalEvery: 2), runDirectory: run,
                                  train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: true)
        for source in [run, bare] {
            var config = tinyConfiguration(steps: 4, evalEvery: 2)
            config.initialWeights = TrainingConfiguration.InitialWeights(path: source.path)
            let dir = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("fresh")
            let fresh = try Trainer(configuration: config, runDirectory: dir,
                                    train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)
            // Same weights as a resume; fresh step, optimizers, beta and loader.
            XCTAssertEqual(fresh.model.namedParameters().map(\.1.values), resumed.model.namedParameters().map(\.1.values))
            XCTAssertTrue(fresh.model.training)
            XCTAssertEqual(fresh.step, 0)
            XCTAssertEqual(resumed.step, 2)
            XCTAssertTrue(fresh.optimizers.named.allSatisfy { $0.1.stateTensors().isEmpty })
            XCTAssertFalse(resumed.optimizers.named.allSatisfy { $0.1.stateTensors().isEmpty })
            XCTAssertEqual(fresh.beta.beta, try StrategyRegistry.makeBeta(config.beta).beta)
            XCTAssertEqual(fresh.train.position, BatchPosition())
            let digest = try FileDigest.sha256(of: source == run ? weights : bare)
            XCTAssertEqual(fresh.configuration.initialWeights, TrainingConfiguration.InitialWeights(path: source.path, sha256: digest))
            let saved = try TrainingConfiguration.load(from: dir.appendingPathComponent("config.json"))
            XCTAssertEqual(saved.initialWeights?.sha256, digest)
        }

        // Weights of other widths are refused, naming the file and both widths.
        var other = tinyConfiguration()
        other.model.latent = 6
        other.initialWeights = TrainingConfiguration.InitialWeights(path: bare.path)
        let dir = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("other")
        XCTAssertThrowsError(try Trainer(configuration: other, runDirectory: dir,
                                         train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)) { error in
            XCTAssertTrue("\(error)".contains("\(bare.path): the initial weights have widths (latent 4"), "\(error)")
        }
    }
}
