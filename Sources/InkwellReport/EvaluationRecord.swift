import Foundation

/// One `evaluations/step-<8 digits>.json` file of a run (see notes/contracts.md): the test-split
/// figures at one step. Every field except `step` is optional: a field that is missing or of the
/// wrong type reads as nil and the report says so where it would show it.
public struct EvaluationRecord: Sendable {
    public var file: URL
    public var step: Int
    public var epoch: Int?
    public var pixelMSE: Double?
    public var psnr: Double?
    public var feats: Double?
    /// gen_recon, gen_fake, disc_real, disc_recon, disc_fake.
    public var losses: [String: Double]
    /// KLD under each strategy's formula: per-sample, batch, moving-batch.
    public var kld: [String: Double]
    public var beta: Double?
    public var kldTarget: Double?
    public var latent: LatentSummary?
    public var diversity: DiversitySummary?
    public var collapsedFraction: Double?
    /// The baselines on the same test frames: the training split's mean frame and its PCA.
    public var meanFramePSNR: Double?
    public var pcaPSNR: Double?
    public var pcaComponents: Int?
    /// The Fréchet distance of fakes to test frames in PCA space, and the same between two
    /// halves of the test frames.
    public var frechet: Double?
    public var frechetFloor: Double?
    /// Run-relative paths of the sample images.
    public var fakesImage: String?
    public var reconstructionsImage: String?
    /// The whole document, for fields this type does not name.
    public var raw: JSONValue

    /// Latent statistics of encoded test samples.
    public struct LatentSummary: Sendable {
        public var dimension: Int?
        public var meanPerDimension: [Double]
        public var variancePerDimension: [Double]
        public var distanceEdges: [Double]
        public var distanceCounts: [Double]
        /// Expected fraction per distance bin under N(0, I) (chi with `dimension` degrees of freedom).
        public var chiDensity: [Double]?
    }

    /// Mean pairwise distances of fixed-latent fakes and of real test frames, and their ratio.
    public struct DiversitySummary: Sendable {
        public var fakePairwise: Double?
        public var realPairwise: Double?
        public var ratio: Double?
    }

    /// Reads one evaluation file. Throws a one-line error naming the file when it is not JSON, not
    /// an object, or has no step (neither the `step` field nor a `step-N.json` name).
    public init(contentsOf url: URL) throws {
        let json = try JSONValue.read(url)
        guard json.object != nil else { throw ReportError.unreadable(url.path, reason: "not a JSON object") }
        guard let step = json["step"]?.int ?? EvaluationRecord.stepFromName(url.lastPathComponent) else {
            throw ReportError.unreadable(url.path, reason: "no `step` field")
        }
        self.file = url
        self.raw = json
        self.step = step
        self.epoch = json["epoch"]?.int
        self.pixelMSE = json["pixel_mse"]?.double
        self.psnr = json["psnr"]?.double
        self.feats = json["feats"]?.double
        self.losses = (json["losses"]?.object ?? [:]).compactMapValues { $0.double }
        self.kld = (json["kld"]?.object ?? [:]).compactMapValues { $0.double }
        if let single = json["kld"]?.double { self.kld["value"] = single }
        self.beta = json["beta"]?.double
        self.kldTarget = json["kld_target"]?.double
        if let latent = json["latent"], latent.object != nil {
            self.latent = LatentSummary(
                dimension: latent["dim"]?.int,
                meanPerDimension: latent["mean_per_dim"]?.doubles ?? [],
                variancePerDimension: latent["var_per_dim"]?.doubles ?? [],
                distanceEdges: latent.value(at: "distance_histogram.edges")?.doubles ?? [],
                distanceCounts: latent.value(at: "distance_histogram.counts")?.doubles ?? [],
                chiDensity: latent["distance_chi_density"]?.doubles)
        }
        if let d = json["diversity"], d.object != nil {
            self.diversity = DiversitySummary(fakePairwise: d["fake_pairwise"]?.double,
                                              realPairwise: d["real_pairwise"]?.double, ratio: d["ratio"]?.double)
        }
        self.collapsedFraction = json["collapsed_fraction"]?.double
        self.meanFramePSNR = json.value(at: "baselines.mean_frame.psnr")?.double
        self.pcaPSNR = json.value(at: "baselines.pca.psnr")?.double
        self.pcaComponents = json.value(at: "baselines.pca_components")?.int
        self.frechet = json.value(at: "frechet.fakes")?.double
        self.frechetFloor = json.value(at: "frechet.floor")?.double
        self.fakesImage = json.value(at: "images.fakes")?.string
        self.reconstructionsImage = json.value(at: "images.reconstructions")?.string
    }

    /// 1000 from `step-00001000.json`, or nil.
    static func stepFromName(_ name: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(".json") else { return nil }
        return Int(name.dropFirst(5).dropLast(5))
    }
}
