import Foundation
import InkwellDataset
import InkwellEngine
import InkwellNN
import InkwellReport
import InkwellTestSupport
import InkwellTraining
import XCTest

/// `reconstruct` feeds the model the frames ingest makes, whatever `--scale`: on a real clip, the
/// PSNR is the same at scales 1, 2 and 4 and equals the PSNR of the model on the same clip
/// ingested (every frame) into a dataset.
final class ReconstructScaleTests: XCTestCase {
    func testPSNRIsTheSameAtEveryScaleAndMatchesIngestedFrames() throws {
        let clip = try SharedFixtures.require("fixtures/videos/sample-h264-320x240.mp4")
        let dir = try SharedFixtures.temporaryDirectory(self, name: "reconstruct-scale")
        let weights = dir.appendingPathComponent("narrow.safetensors")
        try SafeTensors.write(items: try VAEGAN(widths: .narrow, seed: 11).stateItems(), to: weights)

        let reconstruction = try ClipReconstruction(model: weights)
        var psnrs: [Double] = []
        for scale in [1, 2, 4] {
            var options = ClipReconstruction.Options()
            options.scale = scale
            options.maxFrames = 6
            options.batch = 6
            let result = try reconstruction.run(video: clip, output: dir.appendingPathComponent("recon-\(scale).mp4"), options: options)
            XCTAssertEqual(result.frames, 6)
            psnrs.append(result.meanPSNR)
        }
        XCTAssertEqual(psnrs[0], psnrs[1])
        XCTAssertEqual(psnrs[0], psnrs[2])

        var ingest = IngestOptions()
        ingest.selection = .all
        ingest.maxFramesPerVideo = 6
        ingest.testFraction = 0
        ingest.jobs = 1
        _ = try Ingest(inputs: [clip], output: dir.appendingPathComponent("dataset"), options: ingest).run()
        let loader = try DatasetLoader(url: dir.appendingPathComponent("dataset"), split: .train, batchSize: 6, shuffle: false,
                                       dropLast: false, prefetch: false)
        let frames = loader.makeBatch(frames: Array(0..<6))
        let recon = reconstruction.model.reconstruct(frames)
        var sum = 0.0
        for i in 0..<6 {
            let a = pngImage(frames, index: i).pixels, b = pngImage(recon, index: i).pixels
            let se = zip(a, b).reduce(0.0) { s, p in s + (Double(p.0) - Double(p.1)) * (Double(p.0) - Double(p.1)) }
            sum += 10 * log10(255 * 255 / (se / Double(a.count)))
        }
        XCTAssertEqual(psnrs[0], sum / 6, accuracy: 1e-9)
    }
}
