import Foundation
import InkwellEngine
import InkwellTestSupport
import XCTest
@testable import InkwellDataset

final class DatasetLoaderTests: XCTestCase {
    /// 4 videos of 10 frames (6 x 4): videos 0-2 train (frame ids 0..29), video 3 test (30..39).
    private func dataset() throws -> Dataset {
        let dir = try SharedFixtures.temporaryDirectory(self)
        _ = try DatasetFixtures.makeDataset(dir, videos: 4, framesPerVideo: 10, testVideos: 1, width: 6, height: 4, shardFrames: 7)
        return try Dataset(url: dir)
    }

    /// The frame id a batch item holds, read back from its G channel ((2 * id / 255) - 1).
    private func frameID(_ t: Tensor, _ n: Int) -> Int {
        let plane = t.shape[2] * t.shape[3]
        let g = t.pointer[n * 3 * plane + plane]
        return Int(((g + 1) * 255 / 2).rounded())
    }

    func testBatchesAreNCHWFloatsInMinusOneToOne() throws {
        let loader = try DatasetLoader(dataset: dataset(), split: .train, batchSize: 5, seed: 1)
        XCTAssertEqual(loader.frameCount, 30)
        let batch = loader.next()
        XCTAssertEqual(batch.images.shape, [5, 3, 4, 6])
        let values = batch.images.values
        XCTAssertTrue(values.allSatisfy { $0 >= -1 && $0 <= 1 })
        let plane = 24
        for n in 0..<5 {
            let k = batch.frames[n]
            XCTAssertEqual(frameID(batch.images, n), k)
            for p in 0..<plane {
                let base = n * 3 * plane
                XCTAssertEqual(values[base + p], Float(2 * Double((k + p) % 256) / 255 - 1), accuracy: 1e-6, "R of pixel \(p)")
                XCTAssertEqual(values[base + plane + p], Float(2 * Double(k) / 255 - 1), accuracy: 1e-6)
                XCTAssertEqual(values[base + 2 * plane + p], Float(2 * Double(255 - k) / 255 - 1), accuracy: 1e-6)
            }
        }
        // The extremes map to exactly -1 and 1.
        let dir = try SharedFixtures.temporaryDirectory(self)
        let b = try DatasetBuilder(url: dir, width: 2, height: 1)
        try b.addVideo(name: "x", frames: [0, 0, 0, 255, 255, 255], count: 1, split: .train)
        try b.commit()
        let t = try DatasetLoader(url: dir, split: .train, batchSize: 1).next().images
        XCTAssertEqual(t.values, [-1, 1, -1, 1, -1, 1])
    }

    func testEachEpochVisitsEveryFrameOnceInAnOrderFixedBySeedAndEpoch() throws {
        let ds = try dataset()
        let a = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 9)
        let b = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 9)
        let c = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 10)
        XCTAssertEqual(a.batchesPerEpoch, 7)
        XCTAssertEqual(Set(a.order(epoch: 0)), Set(0..<30))
        XCTAssertEqual(a.order(epoch: 0), b.order(epoch: 0))
        XCTAssertEqual(a.order(epoch: 3), b.order(epoch: 3))
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1))
        XCTAssertNotEqual(a.order(epoch: 0), c.order(epoch: 0))
        XCTAssertNotEqual(a.order(epoch: 0), Array(0..<30))
        var seen: [Int] = []
        for _ in 0..<7 {
            let batch = a.next()
            XCTAssertEqual(batch.position.epoch, 0)
            XCTAssertEqual((0..<4).map { frameID(batch.images, $0) }, batch.frames, "pixels are the frames named")
            seen += batch.frames
        }
        XCTAssertEqual(seen, Array(a.order(epoch: 0).prefix(28)), "drop-last skips the 2 left over")
        let next = a.next()
        XCTAssertEqual(next.position, DatasetLoader.Position(epoch: 1, index: 0))
        XCTAssertEqual(next.frames, Array(a.order(epoch: 1).prefix(4)))
        XCTAssertEqual(a.position, DatasetLoader.Position(epoch: 1, index: 4))
    }

    func testSavedPositionResumesExactly() throws {
        let ds = try dataset()
        let first = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 3)
        var saved = DatasetLoader.Position()
        var reference: [[Float]] = []
        for i in 0..<12 {
            if i == 5 { saved = first.position }
            reference.append(first.next().images.values)
        }
        // A new loader (as after a restart) restored to the saved position gives the same batches.
        let resumed = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 3, verify: false)
        resumed.position = saved
        for i in 5..<12 { XCTAssertEqual(resumed.next().images.values, reference[i], "batch \(i)") }
        // Moving the position back on a loader that has a batch prefetched also works.
        first.position = saved
        XCTAssertEqual(first.next().images.values, reference[5])
        // Position is Codable (saved in checkpoints).
        let json = try JSONEncoder().encode(saved)
        XCTAssertEqual(try JSONDecoder().decode(DatasetLoader.Position.self, from: json), saved)
        // Without prefetch, the same batches.
        let plain = try DatasetLoader(dataset: ds, split: .train, batchSize: 4, seed: 3, prefetch: false)
        for i in 0..<12 { XCTAssertEqual(plain.next().images.values, reference[i]) }
    }

    func testUnshuffledTestSplitInOrderWithLastPartialBatch() throws {
        let loader = try DatasetLoader(dataset: dataset(), split: .test, batchSize: 4, shuffle: false, dropLast: false)
        XCTAssertEqual(loader.frameCount, 10)
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        XCTAssertEqual(loader.next().frames, [0, 1, 2, 3])
        XCTAssertEqual(loader.next().frames, [4, 5, 6, 7])
        let last = loader.next()
        XCTAssertEqual(last.frames, [8, 9])
        XCTAssertEqual(last.images.shape, [2, 3, 4, 6])
        XCTAssertEqual((0..<2).map { frameID(last.images, $0) }, [38, 39], "test frames are video 3's")
        XCTAssertEqual(loader.next().position, DatasetLoader.Position(epoch: 1, index: 0))
        XCTAssertEqual(try loader.provenance(ofFrame: 9).video, "video-3")
        XCTAssertEqual(try loader.provenance(ofFrame: 9).timestamp, 9)
    }

    func testBadRequestsAreRefusedWithReasons() throws {
        let ds = try dataset()
        XCTAssertThrowsError(try DatasetLoader(dataset: ds, split: .test, batchSize: 11)) {
            XCTAssertTrue("\($0)".contains("has 10 frames, fewer than one batch of 11"), "\($0)")
        }
        XCTAssertThrowsError(try DatasetLoader(dataset: ds, split: .train, batchSize: 0))
        XCTAssertThrowsError(try DatasetLoader(url: ds.url.appendingPathComponent("nope"), split: .train, batchSize: 1)) {
            XCTAssertTrue("\($0)".contains("not a dataset (no manifest.json)"), "\($0)")
        }
    }

    func testFlippedByteIsReportedByVerifyAndRefusedByTheLoader() throws {
        let ds = try dataset()
        let shard = ds.manifest.shards(in: .train)[1]
        let url = ds.url.appendingPathComponent(shard.file)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: url)

        let report = ds.verify()
        XCTAssertFalse(report.isValid)
        XCTAssertEqual(report.problems.count, 1)
        XCTAssertEqual(report.problems.first?.file, shard.file)
        XCTAssertTrue(report.problems.first?.reason.contains("does not match the manifest") ?? false)

        XCTAssertThrowsError(try DatasetLoader(dataset: ds, split: .train, batchSize: 2)) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .corrupt)
            XCTAssertTrue("\(error)".hasPrefix(url.path + ": shard is corrupt"), "\(error)")
        }
        // The test split is untouched and still loads; skipping verification opens the train split.
        XCTAssertNoThrow(try DatasetLoader(dataset: ds, split: .test, batchSize: 2))
        XCTAssertNoThrow(try DatasetLoader(dataset: ds, split: .train, batchSize: 2, verify: false))

        // A shard cut short is reported too, and a missing one.
        let other = ds.url.appendingPathComponent(ds.manifest.shards(in: .test)[0].file)
        try Data(try Data(contentsOf: other).prefix(100)).write(to: other)
        try FileManager.default.removeItem(at: ds.url.appendingPathComponent(ds.manifest.shards(in: .train)[0].file))
        let again = ds.verify()
        XCTAssertEqual(Set(again.problems.map(\.file)),
                       Set([shard.file, ds.manifest.shards(in: .test)[0].file, ds.manifest.shards(in: .train)[0].file]))
    }
}
