import Foundation
import InkwellEngine
import InkwellNN
import InkwellTraining
import XCTest

final class ModelTests: XCTestCase {
    func testReferenceParameterCount() throws {
        let model = try VAEGAN(widths: .reference)
        XCTAssertEqual(model.parameterCount, 138_420_484)
        XCTAssertEqual(model.widths.frameSize, [65, 121])
    }

    func testTheSameSeedBuildsTheSameModel() throws {
        let values = { (seed: UInt64) in try VAEGAN(widths: tinyWidths, seed: seed).stateTensors().map(\.1.values) }
        XCTAssertEqual(try values(3), try values(3))
        XCTAssertNotEqual(try values(3), try values(4))
        // One generator through encoder, decoder and discriminator, in that order.
        var generator = RandomGenerator(seed: 3)
        let manual = try VAEGAN(widths: tinyWidths, using: &generator)
        XCTAssertEqual(manual.stateTensors().map(\.1.values), try values(3))
    }

    func testStateNamesFollowTheReferenceModuleTree() throws {
        let model = try VAEGAN(widths: .narrow)
        let names = Set(model.stateItems().map(\.0))
        var expected: Set<String> = []
        for i in 0..<3 {
            expected.insert("vae.encoder.convs.\(i).1.weight")
            for s in ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"] { expected.insert("vae.encoder.convs.\(i).2.\(s)") }
            expected.insert("vae.decoder.convs.\(i).0.weight")
        }
        for i in 0..<4 { expected.formUnion(["discriminator.convs.\(i).1.weight", "discriminator.convs.\(i).1.bias"]) }
        expected.formUnion(["vae.encoder.map.weight", "vae.encoder.map.bias", "vae.decoder.map.weight", "vae.decoder.map.bias",
                            "vae.decoder.convs.4.weight", "vae.decoder.convs.4.bias",
                            "discriminator.fc.0.weight", "discriminator.fc.0.bias", "discriminator.fc.2.weight", "discriminator.fc.2.bias"])
        XCTAssertEqual(names, expected)
    }

    func testShapesThroughTheModel() throws {
        let model = try VAEGAN(widths: tinyWidths)
        let x = syntheticFrames(2)
        var generator = RandomGenerator(seed: 1)
        let encoding = model.encoder(x, eps: Tensor.randn([2, 4], using: &generator))
        XCTAssertEqual(encoding.z.shape, [2, 4])
        XCTAssertEqual(model.decoder(encoding.z).shape, [2, 3, 9, 13])
        let (p, features) = model.discriminator(x)
        XCTAssertEqual(p.shape, [2, 1])
        XCTAssertEqual(features.shape, [2, 8, 3, 4])
        XCTAssertTrue(p.values.allSatisfy { $0 > 0 && $0 < 1 })
    }

    func testFrameSizeMustFollowTheRule() throws {
        XCTAssertNoThrow(try ModelWidths.reference.checkFrame(height: 65, width: 121))
        XCTAssertThrowsError(try ModelWidths.reference.checkFrame(height: 64, width: 121)) { error in
            XCTAssertTrue("\(error)".contains("2x - 1"), "\(error)")
        }
        // 57 x 33 fits a 5 x 8 feature map at depth 3: the error says so.
        XCTAssertThrowsError(try ModelWidths.reference.checkFrame(height: 33, width: 57)) { error in
            XCTAssertTrue("\(error)".contains("[5, 8]"), "\(error)")
        }
    }

    func testBadWidthsAreRefused() {
        var widths = tinyWidths
        widths.decoder = [8, 4]
        XCTAssertThrowsError(try VAEGAN(widths: widths)) { XCTAssertTrue("\($0)".contains("decoder"), "\($0)") }
        widths = tinyWidths
        widths.discriminator = [1, 4, 8]
        XCTAssertThrowsError(try VAEGAN(widths: widths)) { XCTAssertTrue("\($0)".contains("discriminator"), "\($0)") }
    }

    func testLoadForInferenceFromACheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(configuration: tinyConfiguration(steps: 1), runDirectory: dir,
                                  train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)
        try trainer.run()
        let loaded = try VAEGAN.load(dir)
        XCTAssertFalse(loaded.training)
        XCTAssertEqual(loaded.encoder.map.weight.values, trainer.model.encoder.map.weight.values)
        let x = syntheticFrames(3)
        trainer.model.eval()
        XCTAssertEqual(loaded.reconstruct(x).values, trainer.model.reconstruct(x).values)
    }

    /// `linear_skip`: the seed's model plus `vae.decoder.skip` (latent -> every pixel), zero at the
    /// start so the first outputs are the seed model's; it trains, saves, loads and is read back
    /// from a bare file's shapes.
    func testALinearSkipStartsAtZeroAndIsTrained() throws {
        var widths = tinyWidths
        widths.linearSkip = true
        let plain = try VAEGAN(widths: tinyWidths, seed: 3), skipped = try VAEGAN(widths: widths, seed: 3)
        let names = Dictionary(uniqueKeysWithValues: skipped.stateTensors())
        XCTAssertEqual(names["vae.decoder.skip.weight"]?.shape, [3 * 9 * 13, 4])
        XCTAssertEqual(names["vae.decoder.skip.bias"]?.shape, [3 * 9 * 13])
        XCTAssertEqual(skipped.parameterCount, plain.parameterCount + 3 * 9 * 13 * 5)
        for (name, tensor) in plain.stateTensors() { XCTAssertEqual(names[name]?.values, tensor.values, name) }
        var generator = RandomGenerator(seed: 1)
        let z = Tensor.randn([2, 4], using: &generator)
        XCTAssertEqual(skipped.decoder(z).values, plain.decoder(z).values)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-skip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = tinyConfiguration(steps: 2)
        config.model = widths
        let trainer = try Trainer(configuration: config, runDirectory: dir,
                                  train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)
        try trainer.run()
        XCTAssertTrue(try XCTUnwrap(trainer.model.decoder.skip).weight.values.contains { $0 != 0 }, "the skip did not train")
        let loaded = try VAEGAN.load(dir)
        XCTAssertTrue(loaded.widths.linearSkip)
        let x = syntheticFrames(3)
        trainer.model.eval()
        XCTAssertEqual(loaded.reconstruct(x).values, trainer.model.reconstruct(x).values)

        let bare = dir.appendingPathComponent("bare.safetensors")
        try SafeTensors.write(items: trainer.model.stateItems(), to: bare)
        XCTAssertEqual(try ModelWidths.infer(from: SafeTensorsFile(contentsOf: bare), frame: [9, 13]), widths)
    }

    /// The seed's widths are written without `linear_skip`, and read as before without it.
    func testWidthsWriteTheSkipOnlyWhenItIsOn() throws {
        let plain = String(decoding: try JSONEncoder().encode(tinyWidths), as: UTF8.self)
        XCTAssertFalse(plain.contains("linear_skip"), plain)
        XCTAssertEqual(try JSONDecoder().decode(ModelWidths.self, from: Data(plain.utf8)), tinyWidths)
        var widths = tinyWidths
        widths.linearSkip = true
        let skipped = try JSONEncoder().encode(widths)
        XCTAssertTrue(String(decoding: skipped, as: UTF8.self).contains("\"linear_skip\":true"))
        XCTAssertEqual(try JSONDecoder().decode(ModelWidths.self, from: skipped), widths)
    }

    /// `linear_encoder` adds `vae.encoder.skip` (pixels -> mu), zero at the start: the model's first
    /// outputs are the seed's. Its widths are read back from a bare state dict.
    func testALinearEncoderPathStartsAtZero() throws {
        var widths = tinyWidths
        widths.linearEncoder = true
        let plain = try VAEGAN(widths: tinyWidths, seed: 3), linear = try VAEGAN(widths: widths, seed: 3)
        let names = Dictionary(uniqueKeysWithValues: linear.stateTensors())
        XCTAssertEqual(names["vae.encoder.skip.weight"]?.shape, [4, 3 * 9 * 13])
        XCTAssertEqual(names["vae.encoder.skip.bias"]?.shape, [4])
        XCTAssertEqual(linear.parameterCount, plain.parameterCount + 4 * (3 * 9 * 13 + 1))
        for (name, tensor) in plain.stateTensors() { XCTAssertEqual(names[name]?.values, tensor.values, name) }
        let x = syntheticFrames(3)
        plain.eval(); linear.eval()
        XCTAssertEqual(linear.reconstruct(x).values, plain.reconstruct(x).values)
        let encoded = String(decoding: try JSONEncoder().encode(widths), as: UTF8.self)
        XCTAssertTrue(encoded.contains("\"linear_encoder\":true") && !encoded.contains("linear_skip"), encoded)
        XCTAssertEqual(try JSONDecoder().decode(ModelWidths.self, from: Data(encoded.utf8)), widths)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-linear-encoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bare = dir.appendingPathComponent("bare.safetensors")
        try SafeTensors.write(items: linear.stateItems(), to: bare)
        XCTAssertEqual(try ModelWidths.infer(from: SafeTensorsFile(contentsOf: bare), frame: [9, 13]), widths)
    }

    /// Started at a PCA, the model reconstructs a frame as tanh(atanh(mean) + its PCA deviation),
    /// and its codes have unit variance over the fitted frames.
    func testLinearPathsStartAtThePCA() throws {
        var widths = tinyWidths
        widths.linearSkip = true
        widths.linearEncoder = true
        let model = try VAEGAN(widths: widths, seed: 5)
        let frames = syntheticFrames(12)
        let pca = try XCTUnwrap(FramePCA.fit(frames, components: 4))
        model.startLinearPaths(at: pca)
        model.eval()
        let rebuilt = pca.reconstruct(frames), out = model.reconstruct(frames)
        let d = pca.dimension
        for i in 0..<frames.count {
            let mean = pca.mean.pointer[i % d]
            let expected = tanh(atanh(mean) + rebuilt.pointer[i] - mean)
            XCTAssertEqual(out.pointer[i], expected, accuracy: 1e-4, "value \(i)")
        }
        let mu = withoutGrad { model.encoder.posterior(frames).mu }
        for j in 0..<4 {
            let codes = (0..<12).map { Double(mu.pointer[$0 * 4 + j]) }
            let m = codes.reduce(0, +) / 12
            XCTAssertEqual(m, 0, accuracy: 1e-4)
            XCTAssertEqual(codes.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 11, 1, accuracy: 1e-3, "latent \(j)")
        }
    }

    /// `linear_init: pca` starts a fresh run's linear paths at the training frames' PCA (and is
    /// refused without both paths); `lr_linear` gives the paths their own rate.
    func testATrainingRunStartsItsLinearPathsAtThePCA() throws {
        var config = tinyConfiguration(steps: 0)
        config.model.linearSkip = true
        config.linearInit = .pca
        XCTAssertEqual(config.problems().map(\.setting), ["linear_init"])
        XCTAssertTrue(config.problems()[0].message.contains("linear_encoder"), config.problems()[0].message)
        config.model.linearEncoder = true
        config.learningRates = PartLearningRates(encoder: 1e-3, decoder: 2e-3, linear: 1e-5)
        let frames = syntheticFrames(8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-pca-start-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(configuration: config, runDirectory: dir,
                                  train: TensorBatches(images: frames, batchSize: 4, shuffle: false), test: nil, resume: false)
        let pca = try XCTUnwrap(FramePCA.fit(frames, components: 4))
        let skip = try XCTUnwrap(trainer.model.decoder.skip)
        XCTAssertEqual(skip.bias!.values, pca.mean.values.map { atanh($0) }, "the decoder path's bias is atanh(mean frame)")
        let scales = { (adam: Adam, layer: Linear) in
            [layer.weight, layer.bias!].map { p in adam.rateScales[adam.parameters.firstIndex { $0 === p }!] }
        }
        XCTAssertEqual(scales(trainer.optimizers.decoder, skip), [0.005, 0.005])
        XCTAssertEqual(scales(trainer.optimizers.encoder, try XCTUnwrap(trainer.model.encoder.skip)), [0.01, 0.01])
        XCTAssertEqual(trainer.optimizers.decoder.rateScales.filter { $0 == 1 }.count, trainer.optimizers.decoder.parameters.count - 2)
    }
}
