import Foundation
import InkwellDataset
import InkwellEngine
import InkwellNN
import InkwellPipeline
import InkwellStages
import InkwellTestSupport
import InkwellTraining
import InkwellVideo
import XCTest

/// The commands that take a model (`evaluate`, `sample`, `encode`, `decode`, `interpolate`,
/// `reconstruct`, `train --init`), run as the built tool on real files: a small dataset at the
/// narrow widths' 121 x 65, a short H.264 clip, and a PyTorch-shaped state dict (reference names,
/// no Inkwell metadata) with and without its `num_batches_tracked` counters.
final class ModelCommandsTests: XCTestCase {
    var directory: URL!
    var tool: URL!
    /// The dataset: 8 train frames of one video, 6 test frames of another.
    var dataset: URL!
    /// Bare state dicts of one narrow model: without and with the counters.
    var bare: URL!
    var bareWithCounters: URL!

    override func setUpWithError() throws {
        tool = try ChildProcess.inkwellTool()
        directory = try SharedFixtures.temporaryDirectory(self, name: "inkwell-model-commands")
        dataset = directory.appendingPathComponent("dataset")
        try Self.makeDataset(at: dataset)
        let model = try Self.makeModel()
        bare = directory.appendingPathComponent("bare.safetensors")
        bareWithCounters = directory.appendingPathComponent("bare-counters.safetensors")
        try SafeTensors.write(items: model.stateItems().filter { !$0.0.hasSuffix("num_batches_tracked") }, to: bare)
        try SafeTensors.write(items: model.stateItems(), to: bareWithCounters)
    }

    /// Frame k of a video: gradients that move with k, and a bright square.
    static func frame(_ k: Int, width: Int = 121, height: Int = 65) -> [UInt8] {
        (0..<(width * height)).flatMap { p -> [UInt8] in
            let x = p % width, y = p / width
            let square = abs(x - 10 - 9 * k) < 8 && abs(y - 30) < 8
            return square ? [240, 240, 200] : [UInt8((x * 2 + k * 13) % 256), UInt8((y * 3 + k * 7) % 256), UInt8((x + y + 40 * k) % 256)]
        }
    }

    static func makeDataset(at url: URL) throws {
        let builder = try DatasetBuilder(url: url, width: 121, height: 65)
        try builder.addVideo(name: "train-clip", frames: (0..<8).flatMap { frame($0) }, count: 8, split: .train)
        try builder.addVideo(name: "test-clip", frames: (8..<14).flatMap { frame($0) }, count: 6, split: .test)
        try builder.commit()
    }

    /// A narrow model whose batch-norm running statistics have seen one batch (counters at 1).
    static func makeModel() throws -> VAEGAN {
        let model = try VAEGAN(widths: .narrow, seed: 5)
        let x = Inference.modelInput((0..<4).map { frame($0) }, width: 121, height: 65)
        _ = withoutGrad { model.encoder.posterior(x) }
        model.eval()
        return model
    }

    /// Runs the tool; fails the test, showing the output, unless the exit status is `status`.
    @discardableResult
    func inkwell(_ arguments: String..., status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (code, output) = try ChildProcess.run(tool, arguments)
        XCTAssertEqual(code, status, "inkwell \(arguments.joined(separator: " ")):\n\(output)", file: file, line: line)
        return output
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func evaluation(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("evaluation.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A 64 x 48 H.264 clip of 10 frames, a key frame every 2.
    func makeClip() throws -> URL {
        let url = directory.appendingPathComponent("clip.mp4")
        let writer = try VideoWriter(url: url, options: VideoWriterOptions(width: 64, height: 48, frameRate: 10, gop: 2, codec: .h264, threads: 1))
        for k in 0..<10 { try writer.append(rgb: Self.frame(k, width: 64, height: 48)) }
        _ = try writer.finish()
        return url
    }

    func testABareStateDictWithAndWithoutCountersGoesThroughEveryCommand() throws {
        let clip = try makeClip()
        var pixelErrors: [Double] = []
        for (name, model) in [("plain", bare.path), ("counters", bareWithCounters.path)] {
            try inkwell("evaluate", "--model", model, "--data", dataset.path, "--out", path("\(name)/eval"))
            let result = try evaluation(path("\(name)/eval"))
            XCTAssertEqual(result["frames"] as? Int, 6)
            pixelErrors.append(try XCTUnwrap(result["pixel_mse"] as? Double))
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("\(name)/eval/samples/recon-step-00000000.png")))
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("\(name)/eval/samples/fakes-step-00000000.png")))

            try inkwell("sample", "--model", model, "--count", "5", "--out", path("\(name)/sample"))
            for i in 0..<5 { XCTAssertTrue(FileManager.default.fileExists(atPath: path("\(name)/sample/sample-0000\(i).png"))) }
            let z = try FloatNPY.read(URL(fileURLWithPath: path("\(name)/sample/latents.npy")))
            XCTAssertEqual(z.shape, [5, 16])
            // The same latents from a file give the same images.
            try inkwell("sample", "--model", model, "--latents", path("\(name)/sample/latents.npy"), "--out", path("\(name)/again"))
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("\(name)/again/contact-sheet.png"))),
                           try Data(contentsOf: URL(fileURLWithPath: path("\(name)/sample/contact-sheet.png"))))

            try inkwell("encode", "--model", model, "--data", dataset.path, "--out", path("\(name)/z.npy"), "--logvar")
            XCTAssertEqual(try FloatNPY.read(URL(fileURLWithPath: path("\(name)/z.npy"))).shape, [6, 16])
            XCTAssertEqual(try FloatNPY.read(URL(fileURLWithPath: path("\(name)/z-logvar.npy"))).shape, [6, 16])
            let sidecar = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("\(name)/z.json")))) as? [String: Any])
            let rows = try XCTUnwrap(sidecar["rows"] as? [[String: Any]])
            XCTAssertEqual(rows.map { $0["video"] as? String }, Array(repeating: "test-clip", count: 6))
            XCTAssertEqual(rows.map { $0["index"] as? Int }, Array(0..<6))

            try inkwell("encode", "--model", model, "--video", clip.path, "--out", path("\(name)/clip.npy"))
            XCTAssertEqual(try FloatNPY.read(URL(fileURLWithPath: path("\(name)/clip.npy"))).shape, [5, 16], "5 key frames")

            try inkwell("decode", "--model", model, "--latents", path("\(name)/z.npy"), "--out", path("\(name)/decoded"))
            for i in 0..<6 { XCTAssertTrue(FileManager.default.fileExists(atPath: path("\(name)/decoded/image-0000\(i).png"))) }

            try inkwell("interpolate", "--model", model, "--data", dataset.path, "--from", "0", "--to", "5", "--steps", "4",
                        "--out", path("\(name)/strip.png"))
            let strip = try PNGImage.read(from: URL(fileURLWithPath: path("\(name)/strip.png")))
            XCTAssertEqual([strip.width, strip.height], [2 + 6 * (121 + 2), 2 + 65 + 2])

            let output = try inkwell("reconstruct", "--model", model, "--video", clip.path, "--out", path("\(name)/recon.mp4"),
                                     "--max-frames", "4", "--scale", "2")
            XCTAssertTrue(output.contains("PSNR"), output)

            try inkwell("train", "--data", dataset.path, "--out", path("\(name)/run"), "--init", model, "--preset", "narrow",
                        "--batch", "4", "--steps", "1")
            let config = try TrainingConfiguration.load(from: URL(fileURLWithPath: path("\(name)/run/config.json")))
            XCTAssertEqual(config.initialWeights?.sha256, try FileDigest.sha256(of: URL(fileURLWithPath: model)))
        }
        XCTAssertEqual(pixelErrors[0], pixelErrors[1], "counters do not change inference")
    }

    func testEncodeThenDecodeGivesTheEvaluationsReconstructions() throws {
        try inkwell("evaluate", "--model", bare.path, "--data", dataset.path, "--out", path("eval"))
        try inkwell("encode", "--model", bare.path, "--data", dataset.path, "--out", path("z.npy"))
        try inkwell("decode", "--model", bare.path, "--latents", path("z.npy"), "--out", path("decoded"))
        // recon-step-*.png: the first 6 test frames on top, their reconstructions below, 121 x 65
        // cells with a 2-pixel gap.
        let grid = try PNGImage.read(from: URL(fileURLWithPath: path("eval/samples/recon-step-00000000.png")))
        for i in 0..<6 {
            let image = try PNGImage.read(from: URL(fileURLWithPath: path("decoded/image-0000\(i).png")))
            XCTAssertEqual([image.width, image.height], [121, 65])
            var cell = PNGImage(width: 121, height: 65)
            for y in 0..<65 {
                for x in 0..<121 {
                    let (r, g, b) = grid[2 + i * 123 + x, 2 + 67 + y]
                    cell.pixels.replaceSubrange(((y * 121 + x) * 3)..<((y * 121 + x) * 3 + 3), with: [r, g, b])
                }
            }
            XCTAssertEqual(image.pixels, cell.pixels, "reconstruction \(i)")
        }
    }

    func testSampleStageMakesTheCommandsFakes() throws {
        try inkwell("sample", "--model", bare.path, "--count", "5", "--seed", "3", "--out", path("command"))
        let url = directory.appendingPathComponent("p.yaml")
        try "name: s\nstages:\n  fakes:\n    kind: sample\n    params: {model: \(bare.path), count: 5, seed: 3}\n"
            .write(to: url, atomically: true, encoding: .utf8)
        let registry = StageRegistry()
        BuiltinStages.register(into: registry)
        let pipeline = try PipelineLoader(registry: registry).load(url)
        let work = directory.appendingPathComponent("work")
        XCTAssertEqual(try PipelineRunner(pipeline: pipeline, workDirectory: work, options: .init(echo: false)).run().map(\.status), [.ran])
        for name in ["contact-sheet.png", "sample-00004.png", "latents.npy"] {
            XCTAssertEqual(try Data(contentsOf: work.appendingPathComponent("fakes/samples/\(name)")),
                           try Data(contentsOf: URL(fileURLWithPath: path("command/\(name)"))), name)
        }
    }

    func testBadInputIsOneClearErrorNamingTheFile() throws {
        let wide = path("wide.npy")
        try FloatNPY.write([Float](repeating: 0, count: 14), shape: [2, 7], to: URL(fileURLWithPath: wide))
        var output = try inkwell("decode", "--model", bare.path, "--latents", wide, "--out", path("d"), status: 1)
        XCTAssertTrue(output.contains("\(wide): latents of shape [2, 7]; the model needs (N, 16)"), output)

        let bytes = path("bytes.npy")
        try Data(NPYFormat.header(shape: [2, 16]) + [UInt8](repeating: 0, count: 32)).write(to: URL(fileURLWithPath: bytes))
        output = try inkwell("sample", "--model", bare.path, "--latents", bytes, "--out", path("s"), status: 1)
        XCTAssertTrue(output.contains("\(bytes): dtype |u1 is not one of"), output)

        let tinyWidths = ModelWidths(latent: 4, encoder: [3, 4, 8], decoder: [8, 8, 4], discriminator: [3, 4, 8, 8],
                                     discriminatorHidden: 8, featureMap: [3, 4])
        let tiny = path("tiny.safetensors")
        try SafeTensors.write(items: try VAEGAN(widths: tinyWidths).stateItems(), to: URL(fileURLWithPath: tiny))
        output = try inkwell("evaluate", "--model", tiny, "--data", dataset.path, "--out", path("e"), status: 1)
        XCTAssertTrue(output.contains("\(tiny): cannot tell the feature map"), output)
        try SafeTensors.write(items: try VAEGAN(widths: tinyWidths).stateItems(), to: URL(fileURLWithPath: tiny), metadata: tinyWidths.metadata)
        output = try inkwell("encode", "--model", tiny, "--data", dataset.path, "--out", path("e.npy"), status: 1)
        XCTAssertTrue(output.contains("\(tiny): the model does not fit the frames"), output)

        output = try inkwell("interpolate", "--model", bare.path, "--data", dataset.path, "--from", "0", "--to", "6", "--out", path("s.png"), status: 1)
        XCTAssertTrue(output.contains("frame 6 is out of range: the test split of \(dataset.path) has 6 frames"), output)

        try Data().write(to: URL(fileURLWithPath: path("plain-file")))
        output = try inkwell("evaluate", "--model", bare.path, "--data", dataset.path, "--out", path("plain-file/out"), status: 64)
        XCTAssertTrue(output.contains("\(path("plain-file")) is not a folder"), output)

        output = try inkwell("train", "--data", dataset.path, "--out", path("r"), "--init", bare.path, "--resume", status: 64)
        XCTAssertTrue(output.contains("give --init or --resume, not both"), output)
        for name in ["d", "s", "e", "e.npy", "s.png", "r"] { XCTAssertFalse(FileManager.default.fileExists(atPath: path(name)), name) }
    }

    /// `evaluate`'s pixel error against PyTorch's on the same frames, with the weights loaded into
    /// ../shared/bench/torch_reference.py's blocks at the narrow widths (strict load): the seed's
    /// model, and one with `linear_skip` (its skip filled with random values) and that one module
    /// added as docs/MODELS.md adds it.
    func testEvaluatePixelErrorMatchesPyTorch() throws {
        let reference = try SharedFixtures.require("bench/torch_reference.py")
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let probe = try ChildProcess.run(python, ["python3", "-c", "import torch, numpy, safetensors"])
        guard probe.status == 0 else {
            let reason = "skipped: python3 has no torch, numpy and safetensors (\(probe.output.split(separator: "\n").last ?? ""))"
            print(reason)
            throw XCTSkip(reason)
        }
        var widths = ModelWidths.narrow
        widths.linearSkip = true
        widths.linearEncoder = true
        let skipped = try VAEGAN(widths: widths, seed: 5)
        var generator = RandomGenerator(seed: 9)
        for path in [try XCTUnwrap(skipped.decoder.skip), try XCTUnwrap(skipped.encoder.skip)] {
            path.weight.copy(from: Tensor.uniform(path.weight.shape, low: -0.02, high: 0.02, using: &generator))
        }
        let skippedFile = directory.appendingPathComponent("skipped.safetensors")
        try SafeTensors.write(items: skipped.stateItems(), to: skippedFile)

        let test = try DatasetLoader(url: dataset, split: .test, batchSize: 6, shuffle: false, dropLast: false, prefetch: false)
        let frames = test.makeBatch(frames: Array(0..<6))
        try FloatNPY.write(frames.values, shape: frames.shape, to: URL(fileURLWithPath: path("frames.npy")))
        let script = """
            import sys, json, numpy as np, torch, torch.nn as nn, safetensors.torch
            sys.path.insert(0, sys.argv[1])
            from torch_reference import enc_block, dec_block, dis_block
            w = json.load(open(sys.argv[2])); fh, fw = w["feature_map"]; e, d, c = w["encoder"], w["decoder"], w["discriminator"]
            H, W = [((g - 1) << (len(e) - 1)) + 1 for g in (fh, fw)]
            E = nn.Module(); E.convs = nn.Sequential(*[enc_block(a, b) for a, b in zip(e, e[1:])]); E.map = nn.Linear(e[-1] * fh * fw, 2 * w["latent"])
            D = nn.Module(); D.map = nn.Linear(w["latent"], d[0] * fh * fw)
            D.convs = nn.Sequential(*[dec_block(a, b) for a, b in zip(d, d[1:])], nn.ReflectionPad2d(2), nn.Conv2d(d[-1], 3, 5))
            if w.get("linear_skip"): D.skip = nn.Linear(w["latent"], 3 * H * W)
            if w.get("linear_encoder"): E.skip = nn.Linear(3 * H * W, w["latent"])
            Dis = nn.Module(); Dis.convs = nn.Sequential(*[dis_block(a, b, 1 if i == 0 else 2) for i, (a, b) in enumerate(zip(c, c[1:]))])
            Dis.fc = nn.Sequential(nn.Linear(c[-1] * fh * fw, w["discriminator_hidden"]), nn.ReLU(), nn.Linear(w["discriminator_hidden"], 1), nn.Sigmoid())
            m = nn.Module(); m.vae = nn.Module(); m.vae.encoder, m.vae.decoder, m.discriminator = E, D, Dis
            m.load_state_dict(safetensors.torch.load_file(sys.argv[3]), strict=True); m.eval()
            x = torch.from_numpy(np.load(sys.argv[4]))
            with torch.no_grad():
                mu = E.map(E.convs(x).flatten(1))[:, :w["latent"]]
                mu = mu + E.skip(x.flatten(1)) if w.get("linear_encoder") else mu
                y = D.convs(D.map(mu).view(-1, d[0], fh, fw))
                r = torch.tanh(y + D.skip(mu).view(-1, 3, H, W) if w.get("linear_skip") else y)
                print(json.dumps({"pixel_mse": float(((r.double() - x.double()) ** 2).mean())}))
            """
        try script.write(toFile: path("torch_eval.py"), atomically: true, encoding: .utf8)
        for (name, model, widths) in [("plain", bareWithCounters!, ModelWidths.narrow), ("skip", skippedFile, widths)] {
            try inkwell("evaluate", "--model", model.path, "--data", dataset.path, "--out", path("eval-\(name)"))
            let ours = try XCTUnwrap(try evaluation(path("eval-\(name)"))["pixel_mse"] as? Double)
            try JSONEncoder().encode(widths).write(to: URL(fileURLWithPath: path("widths-\(name).json")))
            let run = try ChildProcess.run(python, ["python3", path("torch_eval.py"), reference.deletingLastPathComponent().path,
                                                    path("widths-\(name).json"), model.path, path("frames.npy")])
            XCTAssertEqual(run.status, 0, run.output)
            let line = try XCTUnwrap(run.output.split(separator: "\n").last { $0.hasPrefix("{") })
            let theirs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])?["pixel_mse"])
            XCTAssertEqual(ours, theirs, accuracy: 1e-4 * theirs, "\(name): Inkwell \(ours), PyTorch \(theirs)")
        }
    }
}
