import Foundation
import InkwellVideo
import XCTest

/// Writes a small but complete run directory in the layout of docs/RUN-DIRECTORY.md, with real files:
/// config.json, metrics.csv (train rows every step, a test row per evaluation), one evaluation
/// JSON per evaluation step, sample PNGs through `PNGImage`, and a checkpoint folder.
struct RunFixture {
    static let header = "phase,time,step,epoch,kld,beta,feats,gen_recon,gen_fake,disc_real,disc_recon,disc_fake,pixel,z_mean,z_min,z_max,z_var,z_std_mean,z_std_min,z_std_max,z_std_var,psnr,diversity,collapsed"

    var steps = 300
    var evalEvery = 100
    var latentDimension = 16
    var kld = "batch"
    var beta = "dual-gradient"
    var target = 0.1
    /// Scales the pixel-error curve, so runs of a comparison differ.
    var pixelScale = 1.0
    /// Shifts the other curves (0, 1, 2, ...), so overlaid runs do not hide each other.
    var variant = 0.0

    /// Evaluation steps: every `evalEvery` steps up to `steps`.
    var evaluationSteps: [Int] { Array(stride(from: evalEvery, through: steps, by: evalEvery)) }

    /// Writes the run into `directory` (created) and returns it.
    @discardableResult
    func write(to directory: URL) throws -> URL {
        let fm = FileManager.default
        for sub in ["evaluations", "samples", "checkpoints/latest", "checkpoints/best-1"] {
            try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let config = """
        {"model": {"latent": \(latentDimension), "encoder_channels": [3, 8, 16, 32]}, "frame": {"width": 121, "height": 65},
         "batch": 8, "lr": 0.0001, "steps": \(steps), "eval_every": \(evalEvery), "seed": 0,
         "kld": {"name": "\(kld)", "momentum": 0.1},
         "beta": {"name": "\(beta)", "initial": 10.0, "step": 0.1, "target": \(target), "beta_min": 0.001},
         "dataset": "/data/<splatoon> & friends"}
        """
        try Data(config.utf8).write(to: directory.appendingPathComponent("config.json"))

        var csv = RunFixture.header + "\n"
        var time = 0.0
        var beta = 10.0
        for step in 1...steps {
            time += 0.05 + 0.01 * Double(step % 7)
            let s = Double(step)
            let kldValue = target + 2.0 * exp(-s / (40 * (1 + variant)))
            beta = max(0.001, beta + 0.1 * (kldValue - target))
            let pixel = pixelScale * (0.02 + 0.3 * exp(-s / 80)) * (1 + 0.1 * sin(s))
            let row: [Double] = [time, s, Double(step / 100), kldValue, beta, (0.5 * exp(-s / 120) + 0.01) * (1 + variant),
                                 0.7 + 0.2 * sin(s / 9 + variant), 2.0 + sin(s / 15), 0.5 + 0.1 * cos(s / 11), 0.4, 0.3 + 0.05 * sin(s / 5),
                                 pixel, 0.01 * sin(s / 20), -3 - s / 100, 3 + s / 100, 1.0, 0.9, 0.5, 1.3, 0.02]
            csv += "train," + row.map { "\($0)" }.joined(separator: ",") + ",,,\n"
            if step % evalEvery == 0 {
                time += 1.5
                let e = evaluation(step: step)
                csv += "test,\(time),\(step),\(step / 100),\(kldValue),\(beta),\(e.feats),0.7,2.1,0.5,0.4,0.3,\(e.pixel),0,-3,3,1,0.9,0.5,1.3,0.02,\(e.psnr),\(e.diversity),\(e.collapsed)\n"
                try writeEvaluation(step: step, values: e, kld: kldValue, beta: beta, into: directory)
            }
        }
        try Data(csv.utf8).write(to: directory.appendingPathComponent("metrics.csv"))

        try Data(repeating: 7, count: 4096).write(to: directory.appendingPathComponent("checkpoints/latest/model.safetensors"))
        try Data("{\"step\": \(steps), \"test_pixel\": 0.031}".utf8).write(to: directory.appendingPathComponent("checkpoints/latest/state.json"))
        try Data(repeating: 9, count: 2048).write(to: directory.appendingPathComponent("checkpoints/best-1/model.safetensors"))
        return directory
    }

    struct EvaluationValues {
        var pixel: Double, psnr: Double, feats: Double, diversity: Double, collapsed: Double
    }

    func evaluation(step: Int) -> EvaluationValues {
        let s = Double(step)
        let pixel = pixelScale * (0.03 + 0.2 * exp(-s / 100))
        let fraction = Double(step) / Double(steps)
        return EvaluationValues(pixel: pixel, psnr: 10 * log10(4 / pixel), feats: 0.3 * exp(-s / 150) * (1 + variant),
                                diversity: 1.0 - 0.8 * fraction * (1 - 0.3 * variant), collapsed: 0.9 * fraction * fraction * (1 - 0.3 * variant))
    }

    func writeEvaluation(step: Int, values e: EvaluationValues, kld: Double, beta: Double, into directory: URL) throws {
        let name = String(format: "%08d", step)
        // Distances drift outwards as the run goes on: a ring instead of a ball.
        let bins = 16
        let edges = (0...bins).map { Double($0) * 0.5 }
        let center = RunFixture.chiMean(latentDimension) + Double(step) / Double(steps) + 0.4 * variant
        let counts = (0..<bins).map { i -> Int in
            let x = (edges[i] + edges[i + 1]) / 2
            return Int((200 * exp(-(x - center) * (x - center) / 0.8)).rounded())
        }
        let chi = (0..<bins).map { RunFixture.chiFraction(latentDimension, edges[$0], edges[$0 + 1]) }
        let json = """
        {"step": \(step), "epoch": \(step / 100), "frames": 50, "pixel_mse": \(e.pixel), "psnr": \(e.psnr), "feats": \(e.feats),
         "losses": {"gen_recon": 0.7, "gen_fake": 2.1, "disc_real": 0.5, "disc_recon": 0.4, "disc_fake": 0.3},
         "kld": {"per-sample": \(kld * 3), "batch": \(kld), "moving-batch": \(kld * 1.1)}, "beta": \(beta), "kld_target": \(target),
         "latent": {"dim": \(latentDimension), "mean_per_dim": [\((0..<latentDimension).map { "\(0.01 * Double($0))" }.joined(separator: ","))],
                    "var_per_dim": [\((0..<latentDimension).map { _ in "0.9" }.joined(separator: ","))],
                    "distance_histogram": {"edges": [\(edges.map { "\($0)" }.joined(separator: ","))], "counts": [\(counts.map(String.init).joined(separator: ","))]},
                    "distance_chi_density": [\(chi.map { "\($0)" }.joined(separator: ","))]},
         "diversity": {"fake_pairwise": \(0.4 * e.diversity), "real_pairwise": 0.4, "ratio": \(e.diversity)},
         "collapsed_fraction": \(e.collapsed),
         "z_statistics": {"z_mean": 0.01, "z_min": -3.2, "z_max": 3.1, "z_var": 0.95, "z_std_mean": 0.4, "z_std_min": 0.1, "z_std_max": 0.9, "z_std_var": 0.02},
         "baselines": {"mean_frame": {"pixel_mse": 0.07, "psnr": 17.57}, "pca": {"pixel_mse": 0.05, "psnr": 19.03},
                       "pca_components": 16, "fit_frames": 400},
         "frechet": {"fakes": \(0.01 * (1 + e.collapsed)), "floor": 0.002, "dimensions": 16, "samples": 50},
         "images": {"fakes": "samples/fakes-step-\(name).png", "reconstructions": "samples/recon-step-\(name).png"}}
        """
        try Data(json.utf8).write(to: directory.appendingPathComponent("evaluations/step-\(name).json"))
        try fakesImage(step: step).write(to: directory.appendingPathComponent("samples/fakes-step-\(name).png"))
        try reconImage(step: step).write(to: directory.appendingPathComponent("samples/recon-step-\(name).png"))
    }

    /// 32 tiles of 30 x 17 pixels (8 columns); colourful early, fading to black (collapse) late.
    func fakesImage(step: Int) -> PNGImage {
        let fade = 1.0 - Double(step) / Double(steps + evalEvery)
        let tiles = (0..<32).map { k -> PNGImage in
            var tile = PNGImage(width: 30, height: 17)
            for y in 0..<17 {
                for x in 0..<30 {
                    let r = Double((x * 8 + k * 37) % 256) * fade
                    let g = Double((y * 15 + k * 53) % 256) * fade
                    let b = Double(((x + y) * 6 + k * 11) % 256) * fade
                    tile[x, y] = (UInt8(r), UInt8(g), UInt8(b))
                }
            }
            return tile
        }
        return PNGImage.grid(tiles, columns: 8, gap: 2, background: (40, 40, 40))
    }

    /// Originals beside blurrier reconstructions: 4 pairs of 30 x 17 tiles.
    func reconImage(step: Int) -> PNGImage {
        var tiles: [PNGImage] = []
        for k in 0..<4 {
            var original = PNGImage(width: 30, height: 17)
            var recon = PNGImage(width: 30, height: 17)
            for y in 0..<17 {
                for x in 0..<30 {
                    let v = UInt8((x * 8 + y * 5 + k * 60) % 256)
                    original[x, y] = (v, 255 - v, UInt8((k * 70) % 256))
                    let q = UInt8(Int(v) / 32 * 32)
                    recon[x, y] = (q, 255 - q, UInt8((k * 70) % 256))
                }
            }
            tiles += [original, recon]
        }
        return PNGImage.grid(tiles, columns: 2, gap: 2, background: (255, 255, 255))
    }

    /// The mean of chi with k degrees of freedom.
    static func chiMean(_ k: Int) -> Double {
        sqrt(2) * exp(lgamma(Double(k + 1) / 2) - lgamma(Double(k) / 2))
    }

    /// P(a <= |z| < b) for z ~ N(0, I_k), by the midpoint rule on the chi density.
    static func chiFraction(_ k: Int, _ a: Double, _ b: Double) -> Double {
        let kd = Double(k)
        let logNorm = (1 - kd / 2) * log(2) - lgamma(kd / 2)
        let n = 200
        var sum = 0.0
        for i in 0..<n {
            let x = a + (Double(i) + 0.5) * (b - a) / Double(n)
            sum += exp(logNorm + (kd - 1) * log(x) - x * x / 2)
        }
        return sum * (b - a) / Double(n)
    }
}
