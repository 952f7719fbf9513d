import Foundation
import InkwellDataset
import InkwellEngine
import InkwellVideo

/// Inference on a trained model in batches (`inkwell encode`, `decode`, `sample`, `interpolate`,
/// reconstruction videos). The model should be in evaluation mode (`LoadedModel` leaves it so).
public enum Inference {
    /// Frames per forward pass (the evaluate stage's default, so encode then decode reproduces an
    /// evaluation's reconstructions bit for bit).
    public static let batch = 64

    /// Packed RGB24 frames (width x height each) as model input (N, 3, H, W): 2 v / 255 - 1
    /// computed in double and rounded to float32, as the dataset loader does.
    public static func modelInput(_ frames: [[UInt8]], width: Int, height: Int) -> Tensor {
        let lookup: [Float] = (0..<256).map { Float(2 * Double($0) / 255 - 1) }
        let plane = width * height
        var values = [Float](repeating: 0, count: frames.count * 3 * plane)
        for (i, frame) in frames.enumerated() {
            for p in 0..<plane {
                for c in 0..<3 { values[(i * 3 + c) * plane + p] = lookup[Int(frame[p * 3 + c])] }
            }
        }
        return Tensor(shape: [frames.count, 3, height, width], values: values)
    }

    /// The posterior means and log-variances, each (N, D), of the N frames `batches` yields.
    public static func encode(_ model: VAEGAN, _ batches: [Tensor]) -> (mu: Tensor, logvar: Tensor) {
        let parts = batches.map { x in withoutGrad { model.encoder.posterior(x) } }
        return (Tensor.concatenate(parts.map { $0.mu }, axis: 0), Tensor.concatenate(parts.map { $0.logvar }, axis: 0))
    }

    /// Every frame of a dataset split, in dataset order, as batches of at most `batch` frames.
    public static func batches(of loader: DatasetLoader, batch: Int = Inference.batch) -> [Tensor] {
        stride(from: 0, to: loader.frameCount, by: batch).map { start in
            loader.makeBatch(frames: Array(start..<min(start + batch, loader.frameCount)))
        }
    }

    /// Decodes latents z (N, D) into images (N, C, H, W), `batch` rows at a time.
    public static func decode(_ model: VAEGAN, _ z: Tensor, batch: Int = Inference.batch) -> Tensor {
        let n = z.shape[0]
        let parts = stride(from: 0, to: n, by: batch).map { start in
            model.decode(z.narrowed(axis: 0, start: start, length: min(batch, n - start)))
        }
        return Tensor.concatenate(parts, axis: 0)
    }

    /// Reads an (N, `latent`) float32 .npy latent matrix; another dtype, rank or width is one
    /// error naming the file.
    public static func readLatents(_ url: URL, latent: Int) throws -> Tensor {
        let (shape, values): ([Int], [Float])
        do { (shape, values) = try FloatNPY.read(url) } catch let error as DatasetError {
            throw TrainingError.data("\(error)")
        }
        guard shape.count == 2, shape[0] > 0, shape[1] == latent else {
            throw TrainingError.data("\(url.path): latents of shape \(shape); the model needs (N, \(latent)) float32 with N >= 1")
        }
        return Tensor(shape: shape, values: values)
    }

    /// `count` latents (count, D) drawn from `RandomGenerator(seed:)`: with seed 0, training's
    /// fixed latents (docs/MODELS.md describes the generator).
    public static func drawnLatents(count: Int, latent: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randn([count, latent], using: &generator)
    }

    /// Decodes latents z (N, D) into `directory`: `sample-00000.png`, ..., `contact-sheet.png`
    /// and the latents themselves as `latents.npy`. Returns the sheet.
    @discardableResult
    public static func writeSamples(_ model: VAEGAN, latents z: Tensor, to directory: URL) throws -> PNGImage {
        let sheet = try writeImages(decode(model, z), to: directory, prefix: "sample")
        do { try FloatNPY.write(z.values, shape: z.shape, to: directory.appendingPathComponent("latents.npy")) } catch let error as DatasetError {
            throw TrainingError.io("\(error)")
        }
        return sheet
    }

    /// Writes images (N, C, H, W) in [-1, 1] as `<prefix>-00000.png`, ... and `contact-sheet.png`
    /// (`columns` per row) into `directory`; returns the sheet.
    @discardableResult
    public static func writeImages(_ images: Tensor, to directory: URL, prefix: String, columns: Int = 8) throws -> PNGImage {
        let pngs = (0..<images.shape[0]).map { pngImage(images, index: $0) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (i, png) in pngs.enumerated() {
                try png.write(to: directory.appendingPathComponent("\(prefix)-\(String(format: "%05d", i)).png"))
            }
            let sheet = PNGImage.grid(pngs, columns: columns)
            try sheet.write(to: directory.appendingPathComponent("contact-sheet.png"))
            return sheet
        } catch let error as VideoError {
            throw TrainingError.io("\(error)")
        } catch {
            throw TrainingError.io("\(directory.path): \(error.localizedDescription)")
        }
    }
}
