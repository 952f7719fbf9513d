import ArgumentParser
import Foundation
import Inkwell

/// `inkwell bench loader`: frames per second from memory-mapped uint8 shards into Float batches
/// (N, 3, H, W) in [-1, 1], on one core (conversion on the calling thread, no prefetch), and with
/// the background prefetch; also the SHA-256 verification rate on open. Target: 5,000 frames/s.
struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Time the dataset loader: frames/s into float batches (target 5,000 on one core)."
    )

    @Option(help: "Use this dataset instead of making a synthetic one.")
    var dataset: String?

    @Option(help: "Frames in the synthetic dataset.")
    var frames = 8192

    @Option(help: "Frame size WIDTHxHEIGHT of the synthetic dataset.")
    var size = "121x65"

    @Option(help: "Batch size.")
    var batch = 64

    @Option(help: "Epochs timed (the median epoch is reported).")
    var epochs = 3

    static let target = 5000.0

    func validate() throws {
        guard frames >= batch, batch > 0, epochs > 0 else {
            throw ValidationError("need --batch > 0, --frames >= --batch and --epochs > 0")
        }
        guard IngestStage.parseSize(size) != nil else { throw ValidationError("--size must look like 121x65, got '\(size)'") }
    }

    func run() throws {
        let url: URL
        var temporary: URL?
        if let dataset {
            url = URL(fileURLWithPath: dataset)
        } else {
            let (w, h) = IngestStage.parseSize(size)!
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-bench-loader-\(UUID().uuidString.prefix(8))")
            temporary = dir
            let builder = try DatasetBuilder(url: dir, width: w, height: h)
            var rng = RandomGenerator(seed: 1)
            let perVideo = 512
            var made = 0
            var v = 0
            while made < frames {
                let n = min(perVideo, frames - made)
                var bytes = [UInt8](repeating: 0, count: n * w * h * 3)
                for i in stride(from: 0, to: bytes.count, by: 8) {
                    var word = rng.next()
                    for j in i..<min(i + 8, bytes.count) { bytes[j] = UInt8(truncatingIfNeeded: word); word >>= 8 }
                }
                try builder.addVideo(name: "synthetic-\(v)", frames: bytes, count: n, split: .train)
                made += n
                v += 1
            }
            try builder.commit()
            url = dir
        }
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }

        let ds = try Dataset(url: url)
        let bytes = ds.shards(in: .train).reduce(0) { $0 + $1.bytes }
        let t0 = Date()
        let verified = try DatasetLoader(dataset: ds, split: .train, batchSize: batch, prefetch: false)
        let verifySeconds = Date().timeIntervalSince(t0)
        let n = verified.frameCount
        print("dataset: \(url.path)")
        print("  \(n) train frames of \(ds.width)x\(ds.height), \(ds.shards(in: .train).count) shards, \(formatBytes(bytes)); batch \(batch)")
        print(String(format: "  open + SHA-256 verify: %.3f s (%.0f MiB/s)", verifySeconds, Double(bytes) / 1_048_576 / verifySeconds))

        func measure(_ loader: DatasetLoader) -> Double {
            var rates: [Double] = []
            _ = loader.next() // warm the page cache and the order
            for _ in 0..<epochs {
                let start = Date()
                var done = 0
                for _ in 0..<loader.batchesPerEpoch { done += loader.next().images.shape[0] }
                rates.append(Double(done) / Date().timeIntervalSince(start))
            }
            return rates.sorted()[rates.count / 2]
        }
        let oneCore = measure(try DatasetLoader(dataset: ds, split: .train, batchSize: batch, verify: false, prefetch: false))
        let prefetched = measure(try DatasetLoader(dataset: ds, split: .train, batchSize: batch, verify: false, prefetch: true))
        print(String(format: "  one core, no prefetch:  %8.0f frames/s  (%.2fx the %.0f target)", oneCore, oneCore / Self.target, Self.target))
        print(String(format: "  background prefetch:    %8.0f frames/s  (%.2fx the target)", prefetched, prefetched / Self.target))
    }
}
