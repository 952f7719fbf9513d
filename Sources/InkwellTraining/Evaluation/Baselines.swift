import Foundation
import InkwellEngine
import InkwellNN

/// What an evaluation measures a model against, fitted once to the training split: the mean
/// frame (a constant prediction) and a k-component PCA (the best linear code of the latent's
/// size, k = min(latent, 256)). The PCA also embeds frames for the Fréchet distance of fakes.
public final class EvaluationBaselines {
    /// Components of a baseline PCA at most.
    public static let maxComponents = 256
    /// Leading PCA components that embed frames for the Fréchet distance.
    public static let frechetDimensions = 16

    public let pca: FramePCA
    /// Training frames the PCA was fitted to.
    public let fitFrames: Int
    /// A fingerprint of those frames (FNV-1a of their values): the cache key.
    public let fingerprint: String

    public init(pca: FramePCA, fitFrames: Int, fingerprint: String) {
        self.pca = pca
        self.fitFrames = fitFrames
        self.fingerprint = fingerprint
    }

    /// Components for a model of latent size `latent`.
    public static func components(latent: Int) -> Int { min(latent, maxComponents) }

    /// Fits to every frame of `train` (`FramePCA.fit`: exactly up to 2048 frames, by subspace
    /// iteration beyond), or loads the fit cached at `cache` (a safetensors file) when it was
    /// made from the same frames with as many components; a new fit is written there
    /// (atomically) when `updateCache`. A cache that cannot be read or written is refitted or
    /// skipped: it only saves time.
    public static func fitted(to train: FrameBatches, latent: Int, cache: URL?, updateCache: Bool = true) throws -> EvaluationBaselines {
        let fingerprint = try Self.fingerprint(train)
        let k = components(latent: latent)
        if let cache, let cached = try? load(cache), cached.fingerprint == fingerprint, cached.requested == k {
            return cached.baselines
        }
        guard let pca = try FramePCA.fit(train, components: k) else {
            throw TrainingError.data("the training split holds NaN or infinite values; no baselines can be fitted")
        }
        let baselines = EvaluationBaselines(pca: pca, fitFrames: train.frameCount, fingerprint: fingerprint)
        if let cache, updateCache { try? baselines.save(to: cache, requested: k) }
        return baselines
    }

    private func save(to url: URL, requested: Int) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafeTensors.write([("mean", pca.mean), ("components", pca.components),
                               ("variances", Tensor(shape: [pca.count], values: pca.variances.map { Float($0) }))],
                              to: url, metadata: ["fingerprint": fingerprint, "fit_frames": "\(fitFrames)", "requested": "\(requested)"])
    }

    private static func load(_ url: URL) throws -> (baselines: EvaluationBaselines, fingerprint: String, requested: Int) {
        let file = try SafeTensorsFile(contentsOf: url)
        let pca = FramePCA(mean: try file.tensor("mean"), components: try file.tensor("components"),
                           variances: try file.tensor("variances").values.map(Double.init))
        let fingerprint = file.metadata["fingerprint"] ?? ""
        let baselines = EvaluationBaselines(pca: pca, fitFrames: Int(file.metadata["fit_frames"] ?? "") ?? 0, fingerprint: fingerprint)
        return (baselines, fingerprint, Int(file.metadata["requested"] ?? "") ?? 0)
    }

    /// FNV-1a (64 bits) of the float bits of every frame of `train`, in its order, in hex.
    static func fingerprint(_ train: FrameBatches) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        try ChunkReader(source: train, chunk: FramePCA.fitChunk).forEach { frames, rows, d in
            for i in 0..<(rows * d) { hash = (hash ^ UInt64(frames[i].bitPattern)) &* 0x100_0000_01b3 }
        }
        return String(format: "%016llx", hash)
    }

    /// The squared errors of the two baselines on frames (N, C, H, W), summed: the mean frame's
    /// and the PCA reconstruction's.
    func squaredErrors(_ frames: Tensor) -> (meanFrame: Double, pca: Double) {
        let d = pca.dimension
        var meanFrame = 0.0, linear = 0.0
        let rebuilt = pca.reconstruct(frames)
        for i in 0..<frames.shape[0] {
            for j in 0..<d {
                let v = frames.pointer[i * d + j]
                let a = Double(v - pca.mean.pointer[j]), b = Double(v - rebuilt.pointer[i * d + j])
                meanFrame += a * a; linear += b * b
            }
        }
        return (meanFrame, linear)
    }

    /// Frames (N, C, H, W) as points in the Fréchet embedding: (N, frechetDimensions) at most.
    public func embed(_ frames: Tensor) -> Tensor { pca.project(frames, components: Self.frechetDimensions) }
}
