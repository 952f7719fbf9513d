import Foundation
import InkwellEngine
import XCTest
import InkwellTraining

/// Every figure of an evaluation checked against a value computed here, independently of the
/// evaluator: by hand for constructed images (a constant error has a known PSNR, identical fakes
/// have diversity 0), and by direct loops over the model's own outputs for a real evaluation.
final class EvaluationMetricsTests: XCTestCase {
    func testPSNROfAConstantErrorIsKnown() {
        // A constant image at 0.5 reconstructed as 0.3: every error 0.2, MSE 0.04, and
        // 10 log10(2^2 / 0.04) = 20 dB on the [-1, 1] range.
        XCTAssertEqual(EvaluationResult.psnr(0.04), 20, accuracy: 1e-9)
        XCTAssertEqual(EvaluationResult.psnr(4), 0, accuracy: 1e-12)
        XCTAssertEqual(EvaluationResult.psnr(4e-4), 40, accuracy: 1e-9)
    }

    func testDiversityOfConstructedImages() {
        let per = 3 * 9 * 13
        func image(_ v: Float) -> [Float] { [Float](repeating: v, count: per) }
        XCTAssertEqual(meanPairwiseDistance(Tensor(shape: [5, 3, 9, 13], values: (0..<5).flatMap { _ in image(0.2) })), 0,
                       "identical fakes have diversity 0")
        // Images at 0, 0 and 1: pair distances 0, sqrt(per), sqrt(per); mean 2 sqrt(per) / 3.
        let three = Tensor(shape: [3, 3, 9, 13], values: image(0) + image(0) + image(1))
        XCTAssertEqual(meanPairwiseDistance(three), 2 * Double(per).squareRoot() / 3, accuracy: 1e-9)
        XCTAssertEqual(meanPairwiseDistance(Tensor(shape: [1, 3, 9, 13], values: image(1))), 0, "one image has no pair")
    }

    func testCollapsedFractionOfConstructedImages() {
        let per = 3 * 4 * 4
        // Half the values at -1 and half at 1: mean 0.5, standard deviation 0.5 of full scale.
        let halves = (0..<per).map { Float($0 % 2 == 0 ? -1 : 1) }
        let grey = [Float](repeating: 0.2, count: per)         // uniform: standard deviation 0
        let dark = (0..<per).map { Float($0 % 2 == 0 ? -0.95 : -0.9) }  // mean below 6% of full scale
        let x = Tensor(shape: [4, 3, 4, 4], values: halves + grey + dark + halves)
        XCTAssertEqual(collapsedFraction(x), 0.5, accuracy: 1e-12)
    }

    /// A real evaluation of a tiny untrained model: each figure against the same quantity
    /// computed here from the model's encoder, decoder and discriminator outputs.
    func testEvaluationFiguresMatchAnIndependentComputation() throws {
        let frames = syntheticFrames(6)
        let test = try TensorBatches(images: frames, batchSize: 6, shuffle: false, dropLast: false)
        let model = try VAEGAN(widths: tinyWidths)
        let evaluator = Evaluator(latent: tinyWidths.latent, maxFrames: 0, fixedLatentCount: 4, fixedLatentSeed: 0, noiseSeed: 0x5EED)
        let e = try evaluator.evaluate(model: model, test: test, kld: BatchKLD(), beta: DualGradientBeta(),
                                       step: 7, epoch: 2, samplesDirectory: nil)
        XCTAssertEqual([e.step, e.epoch, e.frames], [7, 2, 6])

        model.eval()
        defer { model.train() }
        let d = tinyWidths.latent
        let (mu, logvar, recon, realP, fakes, fakeP) = withoutGrad { () -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) in
            let (mu, logvar) = model.encoder.posterior(frames)
            var generator = RandomGenerator(seed: 0)
            let fakes = model.decoder(Tensor.randn([4, d], using: &generator))
            return (mu, logvar, model.decoder(mu), model.discriminator(frames).probability, fakes, model.discriminator(fakes).probability)
        }
        var noise = RandomGenerator(seed: 0x5EED)
        let eps = Tensor.randn(mu.shape, using: &noise)
        let z = (0..<mu.count).map { Double(mu.pointer[$0]) + exp(0.5 * min(Double(logvar.pointer[$0]), 20)) * Double(eps.pointer[$0]) }

        // Reconstruction error and PSNR.
        let mse = (0..<frames.count).reduce(0.0) { $0 + pow(Double(recon.pointer[$1] - frames.pointer[$1]), 2) } / Double(frames.count)
        XCTAssertEqual(e.pixelMSE, mse, accuracy: 1e-5 * mse)
        XCTAssertEqual(e.psnr, 10 * log10(4 / mse), accuracy: 1e-4)

        // KLD: per-sample from (mu, logvar); batch from the sampled z's moments per dimension.
        let perSample = (0..<mu.count).reduce(0.0) { sum, i in
            let (m, lv) = (Double(mu.pointer[i]), Double(logvar.pointer[i]))
            return sum - 0.5 * (1 + lv - m * m - exp(lv))
        } / Double(mu.count)
        XCTAssertEqual(try XCTUnwrap(e.kld["per-sample"]), perSample, accuracy: 1e-4 * max(1, abs(perSample)))
        let (means, variances) = Self.moments(z, rows: 6, columns: d)
        let batch = zip(means, variances).reduce(0.0) { $0 - 0.5 * (1 + log($1.1) - $1.0 * $1.0 - $1.1) } / Double(d)
        XCTAssertEqual(try XCTUnwrap(e.kld["batch"]), batch, accuracy: 1e-4 * max(1, abs(batch)))
        // The formulas come from the registry: every built-in one, and nothing it does not know.
        XCTAssertTrue(Set(["per-sample", "batch", "moving-batch"]).isSubset(of: Set(e.kld.keys)), "\(e.kld.keys)")
        XCTAssertTrue(Set(e.kld.keys).isSubset(of: Set(StrategyRegistry.kldNames)))

        // Latent statistics.
        for j in 0..<d {
            XCTAssertEqual(e.latent.meanPerDim[j], means[j], accuracy: 1e-5)
            XCTAssertEqual(e.latent.varPerDim[j], variances[j], accuracy: 1e-5 * max(1, variances[j]))
        }
        XCTAssertEqual(e.latent.dim, d)
        XCTAssertEqual(e.latent.distanceHistogram.counts.reduce(0, +), 6)
        let distances = (0..<6).map { i in (0..<d).reduce(0.0) { $0 + z[i * d + $1] * z[i * d + $1] }.squareRoot() }
        let edges = e.latent.distanceHistogram.edges
        for r in distances {
            let bin = try XCTUnwrap(edges.indices.dropLast().first { r >= edges[$0] && r < edges[$0 + 1] })
            XCTAssertGreaterThan(e.latent.distanceHistogram.counts[bin], 0, "distance \(r) falls in bin \(bin)")
        }
        XCTAssertEqual(try XCTUnwrap(e.zStatistics["z_mean"]), z.reduce(0, +) / Double(z.count), accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(e.zStatistics["z_max"]), z.max()!, accuracy: 1e-5)

        // Diversity: fakes of the fixed latents against the first 4 real frames.
        let fakePairwise = Self.meanPairwise(fakes), realPairwise = Self.meanPairwise(frames.narrowed(axis: 0, start: 0, length: 4))
        XCTAssertEqual(e.diversity.fakePairwise, fakePairwise, accuracy: 1e-5 * fakePairwise)
        XCTAssertEqual(e.diversity.realPairwise, realPairwise, accuracy: 1e-5 * realPairwise)
        XCTAssertEqual(e.diversity.ratio, fakePairwise / realPairwise, accuracy: 1e-5)

        // Losses: binary cross-entropies of the discriminator's probabilities.
        func bce(_ p: Tensor, _ target: Double) -> Double {
            (0..<p.count).reduce(0.0) { sum, i in
                let x = Double(p.pointer[i])
                return sum - (target * max(log(x), -100) + (1 - target) * max(log(1 - x), -100))
            } / Double(p.count)
        }
        XCTAssertEqual(try XCTUnwrap(e.losses["disc_real"]), bce(realP, 1), accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(e.losses["disc_fake"]), bce(fakeP, 0), accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(e.losses["gen_fake"]), bce(fakeP, 1), accuracy: 1e-5)
        XCTAssertEqual(e.collapsedFraction, Self.collapsed(fakes), accuracy: 1e-12)
        XCTAssertEqual(e.images.fakes, "samples/fakes-step-00000007.png")
    }

    /// Per-column mean and unbiased variance of a row-major (rows, columns) matrix.
    static func moments(_ x: [Double], rows: Int, columns: Int) -> ([Double], [Double]) {
        let means = (0..<columns).map { j in (0..<rows).reduce(0.0) { $0 + x[$1 * columns + j] } / Double(rows) }
        let variances = (0..<columns).map { j in
            (0..<rows).reduce(0.0) { $0 + pow(x[$1 * columns + j] - means[j], 2) } / Double(rows - 1)
        }
        return (means, variances)
    }

    /// The mean Euclidean distance over every pair of images.
    static func meanPairwise(_ x: Tensor) -> Double {
        let n = x.shape[0], per = x.count / n
        var total = 0.0, pairs = 0
        for i in 0..<n {
            for j in (i + 1)..<n {
                total += (0..<per).reduce(0.0) { $0 + pow(Double(x.pointer[i * per + $1]) - Double(x.pointer[j * per + $1]), 2) }.squareRoot()
                pairs += 1
            }
        }
        return total / Double(pairs)
    }

    /// The fraction of images whose mean brightness is below 6% or whose standard deviation is
    /// below 2% of full scale.
    static func collapsed(_ x: Tensor) -> Double {
        let n = x.shape[0], per = x.count / n
        let flags = (0..<n).map { i -> Bool in
            let values = (0..<per).map { (Double(x.pointer[i * per + $0]) + 1) / 2 }
            let mean = values.reduce(0, +) / Double(per)
            let variance = values.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(per)
            return mean < 0.06 || variance.squareRoot() < 0.02
        }
        return Double(flags.filter { $0 }.count) / Double(n)
    }
}
