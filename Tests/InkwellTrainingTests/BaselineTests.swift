import InkwellEngine
import InkwellVideo
import XCTest
import InkwellTraining

/// The evaluation's baselines (mean frame, PCA) and the Fréchet distance of fakes, checked
/// against values computed independently and on constructed generators.
final class BaselineTests: XCTestCase {
    /// Frames of synthetic gameplay clips, (N, 3, H, W) in [-1, 1]: `perClip` consecutive frames
    /// of each clip, clip after clip.
    /// `phase` of every `every` frames (0 and 1 of 2: interleaved in time).
    static func gameplayFrames(clips: Range<UInt64>, perClip: Int, every: Int = 1, phase: Int = 0, width: Int = 61, height: Int = 33) -> Tensor {
        var values: [Float] = []
        for seed in clips {
            let renderer = GameplayClipRenderer(width: width, height: height, frameCount: perClip * every, seed: seed)
            for i in 0..<(perClip * every) {
                let rgb = renderer.nextFrame()
                guard i % every == phase else { continue }
                for c in 0..<3 { for p in 0..<(width * height) { values.append(Float(rgb[p * 3 + c]) / 127.5 - 1) } }
            }
        }
        return Tensor(shape: [clips.count * perClip, 3, height, width], values: values)
    }

    func testPCAReconstructsFramesOfItsRankExactly() throws {
        // 12 frames in a 3-dimensional affine subspace of R^60.
        var generator = RandomGenerator(seed: 3)
        let basis = Tensor.randn([3, 60], using: &generator), offset = Tensor.randn([60], using: &generator)
        let coefficients = Tensor.randn([12, 3], using: &generator)
        let frames = Tensor(shape: [12, 60], values: (0..<12).flatMap { i in
            (0..<60).map { j in offset.pointer[j] + (0..<3).reduce(Float(0)) { $0 + coefficients.pointer[i * 3 + $1] * basis.pointer[$1 * 60 + j] } }
        })
        let pca = try XCTUnwrap(FramePCA.fit(frames, components: 8))
        XCTAssertEqual(pca.count, 3, "directions beyond the frames' rank are dropped")
        XCTAssertEqual(pca.variances, pca.variances.sorted(by: >))
        for a in 0..<3 {
            for b in 0..<3 {
                let dot = (0..<60).reduce(0.0) { $0 + Double(pca.components.pointer[a * 60 + $1] * pca.components.pointer[b * 60 + $1]) }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-4, "components \(a), \(b)")
            }
        }
        let rebuilt = pca.reconstruct(frames)
        for i in 0..<frames.count { XCTAssertEqual(rebuilt.pointer[i], frames.pointer[i], accuracy: 1e-4) }
        // The total variance is kept: the sum of the component variances equals the frames'.
        let total = (0..<60).reduce(0.0) { sum, j in
            let column = (0..<12).map { Double(frames.pointer[$0 * 60 + j]) }
            let mean = column.reduce(0, +) / 12
            return sum + column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 11
        }
        XCTAssertEqual(pca.variances.reduce(0, +), total, accuracy: total * 1e-4)
    }

    /// A split too large to fit exactly is fitted by subspace iteration over chunks of it: the
    /// same directions as the exact fit, within a fraction of a percent of its variance, and the
    /// same error on frames it did not see.
    func testStreamedFitFindsWhatTheExactFitFinds() throws {
        let train = Self.gameplayFrames(clips: 0..<12, perClip: 40, width: 33, height: 33)
        let test = Self.gameplayFrames(clips: 20..<24, perClip: 10, width: 33, height: 33)
        let exact = try XCTUnwrap(FramePCA.fit(train, components: 16))
        let source = try TensorBatches(images: train, batchSize: 1, shuffle: false)
        let streamed = try XCTUnwrap(FramePCA.fit(source, components: 16, exactLimit: 100, chunk: 64))
        XCTAssertEqual(streamed.count, 16)
        let d = streamed.dimension
        for a in 0..<16 {
            for b in a..<16 {
                let dot = (0..<d).reduce(0.0) { $0 + Double(streamed.components.pointer[a * d + $1] * streamed.components.pointer[b * d + $1]) }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-3, "components \(a), \(b)")
            }
        }
        for j in 0..<4 { XCTAssertEqual(streamed.variances[j], exact.variances[j], accuracy: 0.01 * exact.variances[j], "component \(j)") }
        let (kept, best) = (streamed.variances.reduce(0, +), exact.variances.reduce(0, +))
        XCTAssertGreaterThan(kept, 0.995 * best)
        XCTAssertLessThanOrEqual(kept, best * (1 + 1e-4), "no 16 directions hold more variance than the exact fit's")
        func error(_ pca: FramePCA) -> Double {
            let rebuilt = pca.reconstruct(test)
            return (0..<test.count).reduce(0.0) { $0 + Double((rebuilt.pointer[$1] - test.pointer[$1]) * (rebuilt.pointer[$1] - test.pointer[$1])) }
        }
        XCTAssertEqual(error(streamed), error(exact), accuracy: 0.01 * error(exact))
        print("variance held by 16 components: exact \(best), streamed \(kept); held-out squared error: exact \(error(exact)), streamed \(error(streamed))")
    }

    /// The baselines are fitted to every training frame, however many: their mean frame is the
    /// mean of all of them (a split of 2100 frames, past the exact fit's 2048).
    func testBaselinesAreFittedToEveryTrainingFrame() throws {
        let frames = Self.gameplayFrames(clips: 0..<35, perClip: 60, width: 32, height: 32)
        let n = frames.shape[0], d = frames.count / n
        XCTAssertGreaterThan(n, FramePCA.exactFitLimit)
        let baselines = try EvaluationBaselines.fitted(to: try TensorBatches(images: frames, batchSize: 16, shuffle: false),
                                                       latent: tinyWidths.latent, cache: nil)
        XCTAssertEqual(baselines.fitFrames, n)
        for j in stride(from: 0, to: d, by: 97) {
            let mean = (0..<n).reduce(0.0) { $0 + Double(frames.pointer[$1 * d + j]) } / Double(n)
            XCTAssertEqual(Double(baselines.pca.mean.pointer[j]), mean, accuracy: 1e-5, "value \(j) of the mean frame")
        }
        XCTAssertEqual(baselines.pca.count, EvaluationBaselines.components(latent: tinyWidths.latent))
    }

    func testFrechetDistanceOfGaussiansMatchesTheClosedForm() {
        // N(m1, diag(a)) against N(m2, diag(b)): |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2.
        var generator = RandomGenerator(seed: 5)
        let n = 40_000
        let (m1, m2): ([Float], [Float]) = ([0, 1, -1], [0.5, 1, 0])
        let (a, b): ([Float], [Float]) = ([1, 4, 0.25], [1, 1, 1])
        let z1 = Tensor.randn([n, 3], using: &generator), z2 = Tensor.randn([n, 3], using: &generator)
        let x = Tensor(shape: [n, 3], values: (0..<n * 3).map { m1[$0 % 3] + a[$0 % 3].squareRoot() * z1.pointer[$0] })
        let y = Tensor(shape: [n, 3], values: (0..<n * 3).map { m2[$0 % 3] + b[$0 % 3].squareRoot() * z2.pointer[$0] })
        let expected = zip(m1, m2).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            + zip(a, b).reduce(0.0) { $0 + Double(($1.0.squareRoot() - $1.1.squareRoot()) * ($1.0.squareRoot() - $1.1.squareRoot())) }
        XCTAssertEqual(frechetDistance(x, y), expected, accuracy: 0.03 * expected)
        XCTAssertEqual(frechetDistance(x, x), 0, accuracy: 1e-6)
    }

    /// Real frames score near the floor; shifted copies of one frame, a constant image and an
    /// all-black image score far worse, and the last two read as collapsed.
    func testFrechetDistanceSeparatesRealFramesFromConstructedGenerators() throws {
        let train = Self.gameplayFrames(clips: 0..<6, perClip: 24)
        // The test frames and the held-out real frames: alternate frames of the same four clips.
        let test = Self.gameplayFrames(clips: 10..<14, perClip: 40, every: 2, phase: 0)
        let heldOut = Self.gameplayFrames(clips: 10..<14, perClip: 20, every: 4, phase: 1)
        let baselines = EvaluationBaselines(pca: try XCTUnwrap(FramePCA.fit(train, components: 16)), fitFrames: 144, fingerprint: "")
        let score = { (frames: Tensor) in Evaluator.frechet(fakes: baselines.embed(frames), test: baselines.embed(test), baselines: baselines) }

        let (h, w) = (test.shape[2], test.shape[3])
        let plane = h * w
        let shifted = Tensor(shape: [80, 3, h, w], values: (0..<80).flatMap { k in
            (0..<3 * plane).map { i in
                let (c, p) = (i / plane, i % plane)
                return test.pointer[c * plane + (p / w) * w + (p % w + 3 * k) % w]
            }
        })
        let constant = Tensor(shape: [80, 3, h, w], values: [Float](repeating: 0, count: 80 * 3 * plane))
        let black = Tensor(shape: [80, 3, h, w], values: [Float](repeating: -1, count: 80 * 3 * plane))

        let real = score(heldOut)
        XCTAssertLessThan(real.fakes, 3 * real.floor + 1e-4, "held-out real frames: \(real)")
        var figures = ["floor \(real.floor)", "held-out real frames \(real.fakes)"]
        for (name, frames) in [("shifted copies of one frame", shifted), ("a constant image", constant), ("an all-black image", black)] {
            let fd = score(frames).fakes
            XCTAssertGreaterThan(fd, 10 * real.fakes, "\(name): \(fd) against held-out real frames' \(real.fakes)")
            figures.append("\(name) \(fd)")
        }
        print("Fréchet distances: " + figures.joined(separator: ", "))
        XCTAssertEqual(collapsedFraction(constant), 1)
        XCTAssertEqual(collapsedFraction(black), 1)
        // Half the synthetic clips have a short blackout: a few real frames are near-black too.
        XCTAssertLessThan(collapsedFraction(heldOut), 0.1)
    }

    /// The baselines' PSNR in an evaluation, against values worked out by hand: training frames
    /// that are constant images at -0.5 and 0.3 have the mean frame -0.1 everywhere, so a test
    /// frame at 0.5 has MSE 0.36 against it; the two frames span one direction, which holds every
    /// constant image, so the PCA rebuilds the test frame exactly. A constant generator's fakes
    /// are all alike: diversity 0, all collapsed.
    func testEvaluationScoresBaselinesAsComputedByHand() throws {
        func constant(_ n: Int, _ v: Float) -> Tensor { Tensor(shape: [n, 3, 9, 13], values: [Float](repeating: v, count: n * 3 * 9 * 13)) }
        let train = try TensorBatches(images: Tensor.concatenate([constant(1, -0.5), constant(1, 0.3)], axis: 0), batchSize: 2, shuffle: false)
        let test = try TensorBatches(images: constant(4, 0.5), batchSize: 2, shuffle: false, dropLast: false)
        let model = try VAEGAN(widths: tinyWidths)
        var evaluator = Evaluator(latent: tinyWidths.latent, maxFrames: 0, fixedLatentCount: 4)
        evaluator.baselines = try EvaluationBaselines.fitted(to: train, latent: tinyWidths.latent, cache: nil)
        let e = try evaluator.evaluate(model: model, test: test, kld: MovingBatchKLD(), beta: DualGradientBeta(),
                                       step: 1, epoch: 0, samplesDirectory: nil)
        let baselines = try XCTUnwrap(e.baselines)
        XCTAssertEqual(baselines.meanFrame.pixelMSE, 0.36, accuracy: 1e-6)
        XCTAssertEqual(baselines.meanFrame.psnr, 10 * log10(4 / 0.36), accuracy: 1e-4)
        XCTAssertEqual(baselines.pcaComponents, 1)
        XCTAssertLessThan(baselines.pca.pixelMSE, 1e-10)
        XCTAssertEqual(e.frechet?.samples, 2)
        XCTAssertTrue(e.baselineSummary?.contains("mean frame 10.46 dB") == true, e.baselineSummary ?? "")

        let sameFakes = constant(6, 0.2)
        XCTAssertEqual(meanPairwiseDistance(sameFakes), 0)
        XCTAssertEqual(collapsedFraction(sameFakes), 1)
    }
}
