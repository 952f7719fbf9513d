import Foundation
import InkwellEngine
import InkwellNN
import InkwellVideo

/// One evaluation on the test split: RUN/evaluations/step-<8 digits>.json, and a pipeline's
/// evaluate/evaluation.json (the schema in docs/RUN-DIRECTORY.md).
public struct EvaluationResult: Codable, Equatable, Sendable {
    public struct Latent: Codable, Equatable, Sendable {
        public struct Histogram: Codable, Equatable, Sendable {
            public var edges: [Double]
            public var counts: [Int]
        }
        public var dim: Int
        public var meanPerDim: [Double]
        public var varPerDim: [Double]
        public var distanceHistogram: Histogram
        /// The expected fraction of samples per bin under N(0, I) (chi with `dim` degrees).
        public var distanceChiDensity: [Double]
        enum CodingKeys: String, CodingKey {
            case dim
            case meanPerDim = "mean_per_dim", varPerDim = "var_per_dim"
            case distanceHistogram = "distance_histogram", distanceChiDensity = "distance_chi_density"
        }
    }
    public struct Diversity: Codable, Equatable, Sendable {
        public var fakePairwise: Double
        public var realPairwise: Double
        public var ratio: Double
        enum CodingKeys: String, CodingKey { case fakePairwise = "fake_pairwise", realPairwise = "real_pairwise", ratio }
    }
    public struct Images: Codable, Equatable, Sendable {
        public var fakes: String
        public var reconstructions: String
    }
    /// A baseline's error on the same test frames.
    public struct BaselineScore: Codable, Equatable, Sendable {
        public var pixelMSE: Double
        public var psnr: Double
        enum CodingKeys: String, CodingKey { case pixelMSE = "pixel_mse", psnr }
        init(squaredError: Double, values: Double) {
            pixelMSE = squaredError / max(values, 1)
            psnr = EvaluationResult.psnr(pixelMSE)
        }
    }
    /// The training split's mean frame and its k-component PCA, scored on the test frames.
    public struct Baselines: Codable, Equatable, Sendable {
        public var meanFrame: BaselineScore
        public var pca: BaselineScore
        public var pcaComponents: Int
        /// Training frames the baselines were fitted to.
        public var fitFrames: Int
        enum CodingKeys: String, CodingKey {
            case meanFrame = "mean_frame", pca, pcaComponents = "pca_components", fitFrames = "fit_frames"
        }
    }
    /// The Fréchet distance, in the leading PCA components of the training split, between fakes
    /// (decoded from N(0, I) samples) and one half of the test frames (a seeded random half), per
    /// pixel value (divided by C*H*W); `floor` is the same distance from the other half, as many
    /// as the fakes: what real frames of the same videos score.
    public struct Frechet: Codable, Equatable, Sendable {
        public var fakes: Double
        public var floor: Double
        public var dimensions: Int
        /// Fakes (and first-half frames) compared.
        public var samples: Int
    }

    public var step: Int
    public var epoch: Int
    /// Test frames evaluated.
    public var frames: Int
    /// Mean squared error between frames and their reconstructions from the posterior mean, in
    /// the model's [-1, 1] units.
    public var pixelMSE: Double
    /// 10 log10(2^2 / pixel_mse): the PSNR of the [-1, 1] range (equal to 8-bit PSNR).
    public var psnr: Double
    /// Feature-matching error between D(reconstruction) and D(frame).
    public var feats: Double
    /// "gen_recon", "gen_fake", "disc_real", "disc_recon", "disc_fake" on the test frames (fakes
    /// from the fixed latents).
    public var losses: [String: Double]
    /// The KLD under each formula ("per-sample", "batch", "moving-batch"; the run's own strategy
    /// too when it is another).
    public var kld: [String: Double]
    public var beta: Double
    public var kldTarget: Double?
    public var latent: Latent
    public var diversity: Diversity
    /// The fraction of fixed-latent fakes that are near-black (mean below 6% of full scale) or
    /// near-uniform (standard deviation below 2% of full scale).
    public var collapsedFraction: Double
    public var images: Images
    /// Statistics of the sampled test latents and of the posterior standard deviations.
    public var zStatistics: [String: Double]
    /// The baselines' scores (absent when no training frames were given).
    public var baselines: Baselines?
    /// The Fréchet distance of fakes (absent without baselines or with fewer than 4 test frames).
    public var frechet: Frechet?

    /// One line: the PSNR against both baselines (and by how much it beats them), and the
    /// Fréchet distance of fakes beside its floor; nil without baselines.
    public var baselineSummary: String? {
        guard let b = baselines else { return nil }
        func against(_ name: String, _ score: BaselineScore) -> String {
            String(format: "%@ %.2f dB (%@%.2f)", name, score.psnr, psnr >= score.psnr ? "+" : "", psnr - score.psnr)
        }
        var line = String(format: "PSNR %.2f dB; ", psnr) + against("mean frame", b.meanFrame) + ", "
            + against("PCA-\(b.pcaComponents)", b.pca)
        if let f = frechet { line += String(format: "; Fréchet distance of fakes %.4g (floor %.4g)", f.fakes, f.floor) }
        return line
    }

    /// 10 log10(2^2 / mse): PSNR in the [-1, 1] range.
    public static func psnr(_ mse: Double) -> Double { 10 * log10(4 / max(mse, 1e-20)) }

    enum CodingKeys: String, CodingKey {
        case step, epoch, frames, psnr, feats, losses, kld, beta, latent, diversity, images
        case pixelMSE = "pixel_mse", kldTarget = "kld_target", collapsedFraction = "collapsed_fraction"
        case zStatistics = "z_statistics", baselines, frechet
    }
}

extension EvaluationResult {
    /// Why bytes are not an evaluation: the first field that is missing or of the wrong type.
    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// The JSON of an evaluation file, as the trainer, the evaluate stage and `inkwell evaluate`
    /// write it (pretty-printed, sorted keys).
    public func encoded() throws -> Data { try Checkpoint.encodeJSON(self) }

    /// Reads an evaluation file's JSON: what `encoded()` writes and what every earlier version
    /// wrote (`baselines`, `frechet` and `kld_target` may be absent); `NaN`, `inf` and `-inf`
    /// spelled as strings read as those values.
    public static func decode(_ data: Data) throws -> EvaluationResult {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        do { return try decoder.decode(EvaluationResult.self, from: data) } catch let error as DecodingError {
            throw DecodeError(reason: describe(error))
        }
    }
}

/// Evaluates a model on test frames: reconstruction error, KLD under each formula, losses, latent
/// statistics, fake diversity and collapse; writes the sample PNGs.
public struct Evaluator {
    public var maxFrames: Int
    public var fixedLatents: Tensor
    /// Seed of the reparameterisation noise of evaluation (the same at every evaluation).
    public var noiseSeed: UInt64
    /// Bins of the distance histogram.
    public var bins = 30
    /// The training split's baselines; with them the result holds their scores and the Fréchet
    /// distance of fakes.
    public var baselines: EvaluationBaselines?
    /// Seed of the latents whose fakes the Fréchet distance scores (the same at every evaluation).
    public var frechetSeed: UInt64 = 0xFD

    /// - Parameters: `maxFrames` test frames at most (0: all); `fixedLatentCount` latents drawn
    ///   from `RandomGenerator(seed: fixedLatentSeed)`, shape (count, D).
    public init(latent: Int, maxFrames: Int, fixedLatentCount: Int = 32, fixedLatentSeed: UInt64 = 0, noiseSeed: UInt64 = 0x5EED) {
        self.maxFrames = maxFrames
        var generator = RandomGenerator(seed: fixedLatentSeed)
        fixedLatents = Tensor.randn([fixedLatentCount, latent], using: &generator)
        self.noiseSeed = noiseSeed
    }

    /// Runs the evaluation in evaluation mode (the model is put back in training mode after).
    /// `kld` is the run's strategy (its running state is read, not changed). PNGs go to
    /// `samplesDirectory` when given.
    public func evaluate(model: VAEGAN, test: FrameBatches, kld runStrategy: any KLDStrategy, beta: any BetaStrategy,
                         step: Int, epoch: Int, samplesDirectory: URL?) throws -> EvaluationResult {
        model.eval()
        defer { model.train() }
        return try withoutGrad { try run(model: model, test: test, runStrategy: runStrategy, beta: beta, step: step, epoch: epoch, samples: samplesDirectory) }
    }

    /// The KLD formulas an evaluation reports: every strategy the registry knows, with default
    /// parameters, except the run's own name, which is the run's strategy (its running state,
    /// such as moving-batch's, is what the run trains with). A registered strategy that cannot be
    /// made with default parameters is left out.
    static func kldStrategies(run runStrategy: any KLDStrategy) -> [(String, any KLDStrategy)] {
        var strategies: [(String, any KLDStrategy)] = StrategyRegistry.kldNames.compactMap { name in
            if name == runStrategy.name { return (name, runStrategy) }
            return (try? StrategyRegistry.makeKLD(StrategyChoice(name: name))).map { (name, $0) }
        }
        if !strategies.contains(where: { $0.0 == runStrategy.name }) { strategies.append((runStrategy.name, runStrategy)) }
        return strategies
    }

    private func run(model: VAEGAN, test: FrameBatches, runStrategy: any KLDStrategy, beta: any BetaStrategy,
                     step: Int, epoch: Int, samples: URL?) throws -> EvaluationResult {
        // Fakes from the fixed latents.
        let fakes = model.decoder(fixedLatents)
        let fakeProbability = model.discriminator(fakes).probability
        let sums = try accumulate(model: model, test: test, strategies: Self.kldStrategies(run: runStrategy))
        guard sums.seen > 0 else { throw TrainingError.data("the test split has no frames to evaluate") }
        let total = Double(sums.seen)
        let pixel = sums.mean("pixel")

        // Diversity and collapse.
        let realPairwise = meanPairwiseDistance(Tensor.concatenate(sums.reals, axis: 0))
        let fakePairwise = meanPairwiseDistance(fakes)

        var losses: [String: Double] = [:]
        for key in ["disc_real", "disc_recon", "gen_recon"] { losses[key] = sums.mean(key) }
        losses["disc_fake"] = Double(binaryCrossEntropy(fakeProbability, target: 0).item)
        losses["gen_fake"] = Double(binaryCrossEntropy(fakeProbability, target: 1).item)

        let images = EvaluationResult.Images(fakes: RunLayout.samplePath("fakes", step: step),
                                             reconstructions: RunLayout.samplePath("recon", step: step))
        if let samples { try writeSamples(to: samples, step: step, fakes: fakes, sums: sums) }
        var result = EvaluationResult(
            step: step, epoch: epoch, frames: sums.seen, pixelMSE: pixel, psnr: EvaluationResult.psnr(pixel),
            feats: sums.mean("feats"), losses: losses, kld: sums.klds, beta: beta.beta, kldTarget: beta.target,
            latent: latentSummary(sums, dimension: model.widths.latent),
            diversity: .init(fakePairwise: fakePairwise, realPairwise: realPairwise,
                             ratio: realPairwise > 0 ? fakePairwise / realPairwise : 0),
            collapsedFraction: collapsedFraction(fakes), images: images, zStatistics: sums.zStatistics)
        if let baselines {
            let values = total * Double(baselines.pca.dimension)
            result.baselines = .init(meanFrame: .init(squaredError: sums.baselineErrors.meanFrame, values: values),
                                     pca: .init(squaredError: sums.baselineErrors.pca, values: values),
                                     pcaComponents: baselines.pca.count, fitFrames: baselines.fitFrames)
            if sums.seen >= 4 {
                result.frechet = frechetOfFakes(model: model, baselines: baselines, test: Tensor.concatenate(sums.embedded, axis: 0))
            }
        }
        return result
    }

    /// Runs the model over the test frames (at most `maxFrames`) and sums what the evaluation
    /// reports per frame.
    private func accumulate(model: VAEGAN, test: FrameBatches, strategies: [(String, any KLDStrategy)]) throws -> EvaluationSums {
        var generator = RandomGenerator(seed: noiseSeed)
        test.position = BatchPosition()
        let limit = maxFrames > 0 ? min(maxFrames, test.frameCount) : test.frameCount
        var sums = EvaluationSums(latent: model.widths.latent, keepReals: fixedLatents.shape[0])
        while sums.seen < limit {
            var (x, _) = try test.nextBatch()
            if sums.seen + x.shape[0] > limit { x = x.narrowed(axis: 0, start: 0, length: limit - sums.seen) }
            sums.add(x, model: model, strategies: strategies, baselines: baselines, generator: &generator)
        }
        return sums
    }

    /// The latent statistics: mean and variance per dimension, and the histogram of the samples'
    /// distances from the origin beside chi(D)'s expected fractions.
    private func latentSummary(_ sums: EvaluationSums, dimension d: Int) -> EvaluationResult.Latent {
        let total = Double(sums.seen)
        let meanPerDim = sums.sum.map { $0 / total }
        let varPerDim = zip(sums.sum, sums.sumSq).map { s, q in sums.seen > 1 ? max(0, (q - s * s / total) / (total - 1)) : 0 }
        let upper = max((sums.distances.max() ?? 0) * 1.05, 2 * Double(d).squareRoot() + 4)
        let edges = (0...bins).map { upper * Double($0) / Double(bins) }
        var counts = [Int](repeating: 0, count: bins)
        for r in sums.distances { counts[min(bins - 1, Int(r / upper * Double(bins)))] += 1 }
        return .init(dim: d, meanPerDim: meanPerDim, varPerDim: varPerDim, distanceHistogram: .init(edges: edges, counts: counts),
                     distanceChiDensity: ChiDistribution(degrees: d).binProbabilities(edges: edges))
    }

    /// Writes the fakes grid and the originals-over-reconstructions grid of `step` to `samples`.
    private func writeSamples(to samples: URL, step: Int, fakes: Tensor, sums: EvaluationSums) throws {
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        let fakeImages = (0..<fakes.shape[0]).map { pngImage(fakes, index: $0) }
        try PNGImage.grid(fakeImages, columns: 8).write(to: samples.appendingPathComponent(RunLayout.sampleFileName("fakes", step: step)))
        if let originals = sums.originals, let reconstructions = sums.reconstructions {
            let k = originals.shape[0]
            let row = (0..<k).map { pngImage(originals, index: $0) } + (0..<k).map { pngImage(reconstructions, index: $0) }
            try PNGImage.grid(row, columns: k).write(to: samples.appendingPathComponent(RunLayout.sampleFileName("recon", step: step)))
        }
    }

    /// The Fréchet distance between fakes from `frechetSeed`'s latents and one half of the
    /// embedded test frames (N, d), beside the other half's (its floor). Per pixel value.
    private func frechetOfFakes(model: VAEGAN, baselines: EvaluationBaselines, test: Tensor) -> EvaluationResult.Frechet {
        let half = test.shape[0] / 2
        var generator = RandomGenerator(seed: frechetSeed)
        var fakes: [Tensor] = []
        var made = 0
        while made < half {
            let n = min(64, half - made)
            fakes.append(baselines.embed(model.decoder(Tensor.randn([n, model.widths.latent], using: &generator))))
            made += n
        }
        return Self.frechet(fakes: Tensor.concatenate(fakes, axis: 0), test: test, baselines: baselines)
    }

    /// The Fréchet distance of embedded fakes (M, d) to one half of the embedded test frames
    /// (N, d), and its floor: the other half's (M frames at most) to the same. The halves are a
    /// seeded random split, so neither holds a kind of frame the other lacks (a preprocess that
    /// interleaves mirrored copies, consecutive frames of one video).
    public static func frechet(fakes: Tensor, test: Tensor, baselines: EvaluationBaselines) -> EvaluationResult.Frechet {
        var order = Array(0..<test.shape[0])
        var generator = RandomGenerator(seed: 0xF12E)
        generator.shuffle(&order)
        let n = test.shape[0] / 2
        let first = rows(test, Array(order[0..<min(n, fakes.shape[0])]))
        let second = rows(test, Array(order[n...]))
        let scale = 1 / Double(baselines.pca.dimension)
        return .init(fakes: frechetDistance(fakes, second) * scale, floor: frechetDistance(first, second) * scale,
                     dimensions: test.shape[1], samples: fakes.shape[0])
    }
}

/// What an evaluation sums over the test batches: losses weighted by frames, the KLD under each
/// formula, the latent samples' sums and distances, the baselines' errors, and the frames kept
/// for diversity and the reconstruction grid.
struct EvaluationSums {
    let latent: Int
    /// Real frames kept for the diversity figure (as many as there are fixed latents).
    let keepReals: Int
    var seen = 0
    var sums: [String: Double] = [:]
    var kldWeights: [String: Int] = [:]
    var sum: [Double], sumSq: [Double]
    var distances: [Double] = []
    var zAll: [Float] = [], stdAll: [Float] = []
    var reals: [Tensor] = [], originals: Tensor?, reconstructions: Tensor?
    var baselineErrors = (meanFrame: 0.0, pca: 0.0), embedded: [Tensor] = []

    init(latent: Int, keepReals: Int) {
        self.latent = latent
        self.keepReals = keepReals
        sum = [Double](repeating: 0, count: latent)
        sumSq = sum
    }

    /// The per-frame mean of a summed figure.
    func mean(_ key: String) -> Double { sums[key]! / Double(seen) }

    /// The mean KLD under each formula (over the batches it was computed on).
    var klds: [String: Double] {
        var out: [String: Double] = [:]
        for (name, weight) in kldWeights where weight > 0 { out[name] = sums["kld." + name]! / Double(weight) }
        return out
    }

    /// Statistics of the sampled latents and of the posterior standard deviations.
    var zStatistics: [String: Double] {
        let z = ElementStatistics(Tensor(shape: [zAll.count], values: zAll))
        let std = ElementStatistics(Tensor(shape: [stdAll.count], values: stdAll))
        return ["z_mean": z.mean, "z_min": z.min, "z_max": z.max, "z_var": z.variance,
                "z_std_mean": std.mean, "z_std_min": std.min, "z_std_max": std.max, "z_std_var": std.variance]
    }

    private mutating func add(_ key: String, _ value: Float, _ n: Int) { sums[key, default: 0] += Double(value) * Double(n) }

    /// Adds one batch `x` of test frames.
    mutating func add(_ x: Tensor, model: VAEGAN, strategies: [(String, any KLDStrategy)], baselines: EvaluationBaselines?,
                      generator: inout RandomGenerator) {
        let n = x.shape[0], d = latent
        let (mu, logvar) = model.encoder.posterior(x)
        let eps = Tensor.randn(mu.shape, using: &generator)
        let z = reparameterize(mu: mu, logvar: logvar, eps: eps)
        let recon = model.decoder(mu)
        add("pixel", mseLoss(recon, x).item, n)
        let (realP, realF) = model.discriminator(x)
        let (reconP, reconF) = model.discriminator(recon)
        add("feats", mseLoss(reconF, realF).item, n)
        add("disc_real", binaryCrossEntropy(realP, target: 1).item, n)
        add("disc_recon", binaryCrossEntropy(reconP, target: 0).item, n)
        add("gen_recon", binaryCrossEntropy(reconP, target: 1).item, n)
        for (name, strategy) in strategies {
            if n < 2 && name != PerSampleKLD.name { continue }
            sums["kld." + name, default: 0] += Double(strategy.kld(z: z, mu: mu, logvar: logvar, update: false).item) * Double(n)
            kldWeights[name, default: 0] += n
        }
        for row in 0..<n {
            var squared = 0.0
            for j in 0..<d {
                let v = Double(z.pointer[row * d + j])
                sum[j] += v; sumSq[j] += v * v; squared += v * v
            }
            distances.append(squared.squareRoot())
        }
        if let baselines {
            let e = baselines.squaredErrors(x)
            baselineErrors = (baselineErrors.meanFrame + e.meanFrame, baselineErrors.pca + e.pca)
            embedded.append(baselines.embed(x))
        }
        zAll += z.values
        stdAll += (logvar * 0.5).exp().values
        keep(x, reconstruction: recon)
        seen += n
    }

    /// Keeps the first `keepReals` real frames, and the first batch's first 8 frames with their
    /// reconstructions.
    private mutating func keep(_ x: Tensor, reconstruction recon: Tensor) {
        let n = x.shape[0]
        let realsHeld = reals.reduce(0) { $0 + $1.shape[0] }
        if realsHeld < keepReals { reals.append(x.narrowed(axis: 0, start: 0, length: min(n, keepReals - realsHeld))) }
        if originals == nil {
            let k = min(n, 8)
            originals = x.narrowed(axis: 0, start: 0, length: k)
            reconstructions = recon.narrowed(axis: 0, start: 0, length: k)
        }
    }
}

/// Rows `indices` of a matrix (N, d).
func rows(_ x: Tensor, _ indices: [Int]) -> Tensor {
    let d = x.shape[1]
    let out = Tensor(zeros: [indices.count, d])
    for (row, i) in indices.enumerated() { (out.pointer + row * d).update(from: x.pointer + i * d, count: d) }
    return out
}

/// The mean L2 distance between every pair of images of x (N, ...); 0 for fewer than two.
public func meanPairwiseDistance(_ x: Tensor) -> Double {
    let n = x.shape[0]
    guard n > 1 else { return 0 }
    let per = x.count / n
    var total = 0.0
    for i in 0..<n {
        for j in (i + 1)..<n {
            var s = 0.0
            for k in 0..<per { let diff = Double(x.pointer[i * per + k] - x.pointer[j * per + k]); s += diff * diff }
            total += s.squareRoot()
        }
    }
    return total / Double(n * (n - 1) / 2)
}

/// The fraction of images of x (N, C, H, W) in [-1, 1] that are near-black (mean below 0.06 of
/// full scale) or near-uniform (standard deviation below 0.02 of full scale).
public func collapsedFraction(_ x: Tensor) -> Double {
    let n = x.shape[0]
    guard n > 0 else { return 0 }
    let per = x.count / n
    var collapsed = 0
    for i in 0..<n {
        var s = 0.0, q = 0.0
        for k in 0..<per { let v = (Double(x.pointer[i * per + k]) + 1) / 2; s += v; q += v * v }
        let mean = s / Double(per)
        let std = max(0, q / Double(per) - mean * mean).squareRoot()
        if mean < 0.06 || std < 0.02 { collapsed += 1 }
    }
    return Double(collapsed) / Double(n)
}

/// Image `index` of x (N, C, H, W) in [-1, 1] as 8-bit RGB (one channel is repeated as grey).
public func pngImage(_ x: Tensor, index: Int) -> PNGImage {
    let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
    var pixels = [UInt8](repeating: 0, count: h * w * 3)
    let base = x.pointer + index * c * h * w
    for y in 0..<h {
        for col in 0..<w {
            for ch in 0..<3 {
                let v = base[min(ch, c - 1) * h * w + y * w + col]
                pixels[(y * w + col) * 3 + ch] = UInt8(max(0, min(255, ((v + 1) * 127.5).rounded())))
            }
        }
    }
    return PNGImage(width: w, height: h, pixels: pixels)
}
