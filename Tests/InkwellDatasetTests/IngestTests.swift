import Foundation
import InkwellTestSupport
import InkwellVideo
import XCTest
@testable import InkwellDataset

final class IngestTests: XCTestCase {
    private func options(shardFrames: Int = 1024, jobs: Int = 2, width: Int = 32, height: Int = 18) -> IngestOptions {
        var o = IngestOptions()
        o.width = width
        o.height = height
        o.jobs = jobs
        o.shardFrames = shardFrames
        o.decoderThreads = 1
        return o
    }

    func testRealClipsIngestWithTheirKeyFrameCounts() throws {
        let clips = try DatasetFixtures.realClips()
        let out = try SharedFixtures.temporaryDirectory(self).appendingPathComponent("dataset")
        var opts = options(shardFrames: 50, width: 121, height: 65)
        opts.seed = 3
        var progressCalls: [IngestProgress] = []
        let summary = try Ingest(inputs: [clips.webm, clips.mp4], output: out, options: opts)
            .run(progress: { progressCalls.append($0) })
        XCTAssertEqual(summary.exitStatus, 0)
        XCTAssertEqual(summary.framesAdded, 145)
        let m = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(m.videos.count, 2)
        let webm = try XCTUnwrap(m.videos.first { $0.path.hasSuffix("echo-hereweare.webm") })
        let mp4 = try XCTUnwrap(m.videos.first { $0.path.hasSuffix("sample-h264-320x240.mp4") })
        XCTAssertEqual(webm.frames, 123)
        XCTAssertEqual(mp4.frames, 22)
        XCTAssertEqual(webm.codec, "vp8")
        XCTAssertEqual(mp4.codec, "h264")
        XCTAssertEqual(webm.duration, 44.65, accuracy: 0.1)
        XCTAssertEqual(mp4.duration, 17.01, accuracy: 0.1)
        XCTAssertEqual(webm.sha256, try FileIO.sha256(ofFileAt: clips.webm).digest)
        XCTAssertEqual(webm.bytes, try FileIO.sha256(ofFileAt: clips.webm).bytes)
        XCTAssertEqual(webm.decodeErrors, 0)
        // Each video where its score puts it, except that two videos always give a test video: when
        // neither scores under the fraction, the lower-scoring one goes to test.
        let score = { (v: VideoRecord) in SplitAssignment.score(videoSHA256: v.sha256, seed: 3) }
        let natural = m.videos.map { SplitAssignment.split(videoSHA256: $0.sha256, seed: 3, testFraction: 0.1) }
        let lowest = try XCTUnwrap(m.videos.min { score($0) < score($1) })
        for (v, split) in zip(m.videos, natural) {
            XCTAssertEqual(v.split, natural.contains(.test) || v.sha256 != lowest.sha256 ? split : .test, v.path)
        }
        XCTAssertEqual(m.frameCount, 145)
        XCTAssertEqual(m.frameCount(.train) + m.frameCount(.test), 145)
        XCTAssertTrue(m.shards.allSatisfy { $0.frames <= 50 })
        XCTAssertEqual(m.parameters.selection, "keyframes")
        XCTAssertEqual(m.parameters.scaler, "area")
        XCTAssertEqual(m.rejected, [])
        let last = try XCTUnwrap(progressCalls.last)
        XCTAssertEqual(last.videosDone, 2)
        XCTAssertEqual(last.videosTotal, 2)
        XCTAssertEqual(last.frames, 145)
        XCTAssertGreaterThan(last.framesPerSecond, 0)
        XCTAssertEqual(last.eta ?? -1, 0, accuracy: 1e-9, "nothing left")
        XCTAssertTrue(last.line.hasPrefix("2/2 videos, 145 frames, "), last.line)

        // Provenance: every frame a key frame, timestamps rising within each video, rows per video = frames.
        let ds = try Dataset(url: out)
        var rows: [FrameProvenance] = []
        for s in m.shards { rows += try ds.provenance(of: s) }
        XCTAssertEqual(rows.count, 145)
        XCTAssertTrue(rows.allSatisfy { $0.isKeyFrame && !$0.flipped })
        for v in m.videos {
            let times = rows.filter { $0.videoSHA256 == v.sha256 }.map(\.timestamp)
            XCTAssertEqual(times.count, v.frames)
            XCTAssertEqual(times.first, 0)
            XCTAssertEqual(times, times.sorted())
            XCTAssertLessThanOrEqual(times.last ?? 0, v.duration)
        }
        XCTAssertTrue(ds.verify().isValid)
        if let r = try DatasetFixtures.python("import numpy as np, sys; a = np.load(sys.argv[1], mmap_mode='r'); print(a.shape, a.dtype)",
                                              [out.appendingPathComponent(m.shards[0].file).path]) {
            XCTAssertEqual(r.output, "(\(m.shards[0].frames), 65, 121, 3) uint8\n")
        } else {
            print("numpy check skipped: python3 with numpy not available")
        }
    }

    func testSyntheticClipsGiveExactFramesTimestampsAndKeyFlags() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        try DatasetFixtures.makeClip(videos.appendingPathComponent("a.mp4"), frames: 30, gop: 10, variant: 1)
        try DatasetFixtures.makeClip(videos.appendingPathComponent("b.mkv"), frames: 25, gop: 5, codec: .mpeg4, variant: 2)
        let out = dir.appendingPathComponent("keys")
        let s = try Ingest(inputs: [videos], output: out, options: options()).run()
        let m = s.manifest
        XCTAssertEqual(m.videos.map { ($0.path as NSString).lastPathComponent }, ["a.mp4", "b.mkv"])
        XCTAssertEqual(m.videos.map(\.frames), [3, 5])
        let ds = try Dataset(url: out)
        var rows: [FrameProvenance] = []
        for shard in m.shards { rows += try ds.provenance(of: shard) }
        let a = rows.filter { $0.video.hasSuffix("a.mp4") }.map(\.timestamp)
        let b = rows.filter { $0.video.hasSuffix("b.mkv") }.map(\.timestamp)
        for (t, expected) in zip(a, [0.0, 1.0, 2.0]) { XCTAssertEqual(t, expected, accuracy: 1e-3) }
        for (t, expected) in zip(b, [0.0, 0.5, 1.0, 1.5, 2.0]) { XCTAssertEqual(t, expected, accuracy: 1e-3) }

        // Fixed rate: 2 frames per second of a 10 fps clip, capped at 5.
        var fpsOptions = options()
        fpsOptions.selection = .fps(2)
        fpsOptions.maxFramesPerVideo = 5
        let fpsOut = dir.appendingPathComponent("fps")
        let f = try Ingest(inputs: [videos.appendingPathComponent("a.mp4")], output: fpsOut, options: fpsOptions).run()
        XCTAssertEqual(f.manifest.videos.map(\.frames), [5])
        XCTAssertEqual(f.manifest.parameters.fps, 2)
        let fr = try Dataset(url: fpsOut)
        let frows = try fr.manifest.shards.flatMap { try fr.provenance(of: $0) }
        XCTAssertEqual(frows.map(\.timestamp).map { ($0 * 10).rounded() / 10 }, [0, 0.5, 1.0, 1.5, 2.0])
        XCTAssertEqual(frows.map(\.isKeyFrame), [true, false, true, false, true], "gop 10 at 10 fps: a key frame every second")
    }

    func testReRunSkipsPresentVideosAddsNewOnesAndKeepsOldSplits() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<3 {
            try DatasetFixtures.makeClip(videos.appendingPathComponent("clip\(i).mp4"), frames: 20, gop: 10, variant: i)
        }
        let out = dir.appendingPathComponent("dataset")
        var opts = options(shardFrames: 4)
        opts.testFraction = 0.5
        let first = try Ingest(inputs: [videos], output: out, options: opts).run()
        XCTAssertEqual(first.added.count, 3)
        let before = first.manifest
        let shardBytes = try before.shards.map { try Data(contentsOf: out.appendingPathComponent($0.file)) }

        // Nothing new: nothing changes, not even the manifest's bytes.
        let manifestBytes = try Data(contentsOf: out.appendingPathComponent("manifest.json"))
        let again = try Ingest(inputs: [videos], output: out, options: opts).run()
        XCTAssertEqual(again.added.count, 0)
        XCTAssertEqual(again.alreadyPresent.count, 3)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("manifest.json")), manifestBytes)

        // The folder grows by two videos (one a copy of an old one under a new name).
        try DatasetFixtures.makeClip(videos.appendingPathComponent("clip3.mp4"), frames: 20, gop: 10, variant: 3)
        try FileManager.default.copyItem(at: videos.appendingPathComponent("clip0.mp4"), to: videos.appendingPathComponent("copy-of-0.mp4"))
        let log = MessageLog()
        let grown = try Ingest(inputs: [videos], output: out, options: opts).run(message: log.callback())
        XCTAssertEqual(grown.added.map { ($0.path as NSString).lastPathComponent }, ["clip3.mp4"])
        XCTAssertEqual(Set(grown.alreadyPresent.map { ($0 as NSString).lastPathComponent }), ["clip0.mp4", "clip1.mp4", "clip2.mp4", "copy-of-0.mp4"])
        XCTAssertEqual(grown.exitStatus, 0)
        let after = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(Array(after.videos.prefix(3)), before.videos, "old videos keep their records and splits")
        XCTAssertEqual(after.videos.count, 4)
        XCTAssertEqual(Array(after.shards.filter { before.shards.contains($0) }), before.shards, "old shards stay listed")
        for (shard, bytes) in zip(before.shards, shardBytes) {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(shard.file)), bytes, "\(shard.file) untouched")
        }
        XCTAssertEqual(after.frameCount, 8)
        XCTAssertTrue(try Dataset(url: out).verify().isValid)

        // Different parameters into the same dataset are refused, naming both.
        var other = opts
        other.scaler = .bicubic
        XCTAssertThrowsError(try Ingest(inputs: [videos], output: out, options: other).run()) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .incompatible)
            XCTAssertTrue("\(error)".contains("scaler area") && "\(error)".contains("scaler bicubic"), "\(error)")
        }
    }

    func testKilledIngestLeavesTheOldDatasetAndAReRunCompletesIt() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        try DatasetFixtures.makeClip(videos.appendingPathComponent("a.mp4"), frames: 40, gop: 5, variant: 1)
        let out = dir.appendingPathComponent("dataset")
        let opts = options(shardFrames: 3)
        _ = try Ingest(inputs: [videos], output: out, options: opts).run()
        let oldManifest = try Data(contentsOf: out.appendingPathComponent("manifest.json"))

        try DatasetFixtures.makeClip(videos.appendingPathComponent("b.mp4"), frames: 40, gop: 5, variant: 2)
        try DatasetFixtures.makeClip(videos.appendingPathComponent("c.mp4"), frames: 40, gop: 5, variant: 3)
        // Killed after the second new shard is on disk (before the manifest): the folder as the kill left it.
        for killPoint in [2, Int.max] {
            let ingest = Ingest(inputs: [videos], output: out, options: opts)
            var shardsWritten = 0
            let error = try runKilled(ingest) { event in
                if case .shardWritten = event { shardsWritten += 1 }
                return shardsWritten == killPoint || (killPoint == .max && event == .beforeManifest)
            }
            XCTAssertTrue(error is SimulatedKill, "\(String(describing: error))")
            // Also what a kill during a write leaves: a temporary file.
            try Data([1, 2, 3]).write(to: out.appendingPathComponent("shards/.train-000099.npy.tmp-1-2"))

            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("manifest.json")), oldManifest, "old manifest in place")
            let ds = try Dataset(url: out)
            XCTAssertEqual(ds.manifest.videos.count, 1)
            XCTAssertTrue(ds.verify().isValid, "the old dataset is whole")
            let listed = Set(ds.manifest.shards.flatMap { [$0.file, $0.provenance] })
            let leftovers = DatasetFixtures.listing(out.appendingPathComponent("shards")).map { "shards/\($0)" }.filter { !listed.contains($0) }
            XCTAssertFalse(leftovers.isEmpty, "the kill left unlisted files behind")
            let loader = try DatasetLoader(dataset: ds, split: ds.manifest.videos[0].split, batchSize: 2)
            XCTAssertEqual(loader.frameCount, 8)
        }

        let done = try Ingest(inputs: [videos], output: out, options: opts).run()
        XCTAssertEqual(done.added.count, 2)
        let m = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(m.videos.map { ($0.path as NSString).lastPathComponent }, ["a.mp4", "b.mp4", "c.mp4"])
        XCTAssertEqual(m.frameCount, 24)
        let onDisk = Set(DatasetFixtures.listing(out.appendingPathComponent("shards")).map { "shards/\($0)" })
        XCTAssertEqual(onDisk, Set(m.shards.flatMap { [$0.file, $0.provenance] }), "leftovers removed, nothing else")
        XCTAssertTrue(try Dataset(url: out).verify().isValid)
    }

    func testAKilledIngestKeepsWhatItCommittedEveryFewVideosAndTheRerunMatchesAnUnbrokenOne() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<5 { try DatasetFixtures.makeClip(videos.appendingPathComponent("clip-\(i).mp4"), frames: 15, gop: 5, variant: i + 1) }
        let opts = options(shardFrames: 2)

        let unbroken = dir.appendingPathComponent("unbroken")
        let reference = Ingest(inputs: [videos], output: unbroken, options: opts)
        reference.commitEvery = 2
        _ = try reference.run()

        // Killed at the final commit: the manifests committed after videos 2 and 4 hold.
        let out = dir.appendingPathComponent("dataset")
        let killed = Ingest(inputs: [videos], output: out, options: opts)
        killed.commitEvery = 2
        var commits = 0
        let error = try runKilled(killed) { event in
            if event == .beforeManifest { commits += 1 }
            return commits == 3
        }
        XCTAssertTrue(error is SimulatedKill, "\(String(describing: error))")
        let kept = try Dataset(url: out)
        XCTAssertEqual(kept.manifest.videos.map { ($0.path as NSString).lastPathComponent }, ["clip-0.mp4", "clip-1.mp4", "clip-2.mp4", "clip-3.mp4"])
        XCTAssertTrue(kept.verify().isValid, "what was committed is whole")

        let rerun = Ingest(inputs: [videos], output: out, options: opts)
        rerun.commitEvery = 2
        let summary = try rerun.run()
        XCTAssertEqual(summary.added.map { ($0.path as NSString).lastPathComponent }, ["clip-4.mp4"])
        let a = try DatasetManifest.read(datasetAt: out), b = try DatasetManifest.read(datasetAt: unbroken)
        for split in Split.allCases {
            XCTAssertEqual(a.shards.filter { $0.split == split }.map { [$0.file, $0.sha256] },
                           b.shards.filter { $0.split == split }.map { [$0.file, $0.sha256] },
                           "the same \(split) shards, in the same order, as an ingest never killed")
        }
        XCTAssertEqual(a.videos.map(\.sha256), b.videos.map(\.sha256))
        XCTAssertTrue(try Dataset(url: out).verify().isValid)
    }

    func testKilledFirstIngestLeavesNoDataset() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("a.mp4")
        try DatasetFixtures.makeClip(clip, frames: 20, gop: 5)
        let out = dir.appendingPathComponent("dataset")
        let ingest = Ingest(inputs: [clip], output: out, options: options(shardFrames: 2))
        let error = try runKilled(ingest) { $0 == .beforeManifest }
        XCTAssertTrue(error is SimulatedKill, "\(String(describing: error))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.json").path))
        XCTAssertThrowsError(try Dataset(url: out)) { XCTAssertEqual(($0 as? DatasetError)?.kind, .notFound) }
        let s = try Ingest(inputs: [clip], output: out, options: options(shardFrames: 2)).run()
        XCTAssertEqual(s.manifest.frameCount, 4)
        XCTAssertEqual(s.manifest.shards.count, 2)
    }

    func testWriteFailureReportsItAndKeepsThePreviousDataset() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let a = dir.appendingPathComponent("a.mp4"), b = dir.appendingPathComponent("b.mp4")
        try DatasetFixtures.makeClip(a, frames: 20, gop: 5, variant: 1)
        try DatasetFixtures.makeClip(b, frames: 20, gop: 5, variant: 2)
        let out = dir.appendingPathComponent("dataset")
        _ = try Ingest(inputs: [a], output: out, options: options(shardFrames: 2)).run()
        let before = DatasetFixtures.listing(out)
        let manifest = try Data(contentsOf: out.appendingPathComponent("manifest.json"))
        let ingest = Ingest(inputs: [a, b], output: out, options: options(shardFrames: 2))
        ingest.faultHook = { event in
            if case .shardWritten = event {
                throw DatasetError(.writeFailed, path: out.appendingPathComponent("shards/train-000002.npy").path,
                                   reason: "write failed: \(String(cString: strerror(ENOSPC)))")
            }
        }
        XCTAssertThrowsError(try ingest.run()) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .writeFailed)
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(DatasetFixtures.listing(out), before, "new shards removed")
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("manifest.json")), manifest)

        // A real failed write: the target cannot be created, the temporary file is removed.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("x.bin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("x.bin/inside"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try FileIO.writeAtomically(Data([1, 2]), to: blocked.appendingPathComponent("x.bin"))) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .writeFailed)
            XCTAssertTrue("\(error)".hasPrefix(blocked.appendingPathComponent("x.bin").path + ": rename failed"), "\(error)")
        }
        XCTAssertEqual(DatasetFixtures.listing(blocked), ["x.bin", "x.bin/inside"])
    }

    func testBadInputsAreReportedByNameAndTheRestIngested() throws {
        let clips = try DatasetFixtures.realClips()
        let dir = try SharedFixtures.temporaryDirectory(self)
        let folder = dir.appendingPathComponent("mixed")
        let sub = folder.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try DatasetFixtures.makeClip(folder.appendingPathComponent("good.mp4"), frames: 20, gop: 5, variant: 1)
        try DatasetFixtures.makeClip(sub.appendingPathComponent("good2.webm"), frames: 20, gop: 10, codec: .vp8, variant: 2)
        try Data().write(to: folder.appendingPathComponent("empty.mp4"))
        try Data("this is not a video\n".utf8).write(to: folder.appendingPathComponent("text.mp4"))
        try Data("notes about the clips\n".utf8).write(to: sub.appendingPathComponent("notes.txt"))
        try DatasetFixtures.makeWAV(folder.appendingPathComponent("audio.wav"))
        // Truncated with its index (moov) at the start: the frames before the cut are usable.
        try DatasetFixtures.truncatedCopy(of: clips.mp4, to: folder.appendingPathComponent("truncated.mp4"), fraction: 0.4)
        // Truncated with its index at the end (as VideoWriter writes MP4): nothing is usable.
        let whole = dir.appendingPathComponent("whole.mp4")
        try DatasetFixtures.makeClip(whole, frames: 30, gop: 5, variant: 4)
        try DatasetFixtures.truncatedCopy(of: whole, to: folder.appendingPathComponent("cut.mp4"), fraction: 0.6)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("dangling.mp4").path,
                                                   withDestinationPath: dir.appendingPathComponent("nowhere.mp4").path)
        try Data("hidden".utf8).write(to: folder.appendingPathComponent(".DS_Store"))
        // Damaged in the middle: overwrite a stretch of the webm's data with garbage.
        var damaged = try Data(contentsOf: clips.webm)
        let mid = damaged.count / 2
        for i in mid..<(mid + 20000) { damaged[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        try damaged.write(to: folder.appendingPathComponent("damaged.webm"))
        let missing = dir.appendingPathComponent("missing.mp4")

        let out = dir.appendingPathComponent("dataset")
        let log = MessageLog()
        let s = try Ingest(inputs: [folder, missing], output: out, options: options())
            .run(message: log.callback())
        XCTAssertEqual(s.exitStatus, 3)
        let rejectedNames = Set(s.rejected.map { ($0.path as NSString).lastPathComponent })
        XCTAssertEqual(rejectedNames, ["empty.mp4", "text.mp4", "notes.txt", "audio.wav", "cut.mp4", "dangling.mp4", "missing.mp4"])
        XCTAssertEqual(log.rejected("empty.mp4")?.text, "empty file (0 bytes)")
        XCTAssertEqual(log.rejected("missing.mp4")?.text, "no such file or folder")
        XCTAssertTrue(log.rejected("audio.wav")?.text.contains("audio-only") ?? false, "\(String(describing: log.rejected("audio.wav")))")
        for name in rejectedNames {
            let m = try XCTUnwrap(log.rejected(name), name)
            XCTAssertFalse(m.text.isEmpty)
            XCTAssertFalse(m.description.contains("\n"), "one line: \(m)")
            XCTAssertTrue(m.description.hasPrefix("rejected \(m.path): "), m.description)
        }
        let manifest = try DatasetManifest.read(datasetAt: out)
        XCTAssertEqual(Set(manifest.rejected.map { ($0.path as NSString).lastPathComponent }), rejectedNames)
        XCTAssertEqual(manifest.rejected, s.rejected)
        let names = manifest.videos.map { ($0.path as NSString).lastPathComponent }
        XCTAssertEqual(names, ["damaged.webm", "good.mp4", "good2.webm", "truncated.mp4"], "name order, folders recursed in place")
        XCTAssertEqual(manifest.videos.map(\.frames).suffix(3), [4, 2, 9])
        let truncated = manifest.videos[3]
        XCTAssertGreaterThan(truncated.decodeErrors, 0)
        XCTAssertTrue(log.messages.contains { $0.kind == .warning && $0.path.hasSuffix("truncated.mp4") })
        let damagedRecord = manifest.videos[0]
        XCTAssertGreaterThan(damagedRecord.frames, 60, "frames before and after the damage are kept")
        XCTAssertLessThanOrEqual(damagedRecord.frames, 123)
        XCTAssertGreaterThan(damagedRecord.decodeErrors, 0, "the damage is counted")
        XCTAssertTrue(log.messages.contains { $0.kind == .warning && $0.path.hasSuffix("damaged.webm") })
        XCTAssertTrue(try Dataset(url: out).verify().isValid)
    }

    func testOneVideoWarnsThatItsOtherSplitIsEmptyNamingTheDataset() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("only.mp4")
        try DatasetFixtures.makeClip(clip, frames: 20, gop: 10)
        let sha = try FileIO.sha256(ofFileAt: clip).digest
        // Seeds whose score sends the one video to train, and to test, at a test fraction of 0.5.
        let seeds = (0..<64).map { UInt64($0) }
        let toTrain = try XCTUnwrap(seeds.first { SplitAssignment.score(videoSHA256: sha, seed: $0) >= 0.5 })
        let toTest = try XCTUnwrap(seeds.first { SplitAssignment.score(videoSHA256: sha, seed: $0) < 0.5 })
        let cases: [(seed: UInt64, fraction: Double, warning: String?)] = [
            (toTrain, 0.5, "the test split is empty: splits are by video, and its one video went to train"),
            (toTest, 0.5, "the training split is empty: splits are by video, and its one video went to test"),
            (toTrain, 0, nil),  // a test fraction of 0 asks for no test split
        ]
        for (i, c) in cases.enumerated() {
            let out = dir.appendingPathComponent("dataset-\(i)")
            var opts = options()
            opts.seed = c.seed
            opts.testFraction = c.fraction
            let log = MessageLog()
            let summary = try Ingest(inputs: [clip], output: out, options: opts).run(message: log.callback())
            XCTAssertEqual(summary.framesAdded, 2, "case \(i)")
            let warnings = log.messages.filter { $0.kind == .warning }
            guard let expected = c.warning else {
                XCTAssertEqual(warnings.count, 0, "case \(i): \(warnings)")
                continue
            }
            XCTAssertEqual(warnings.count, 1, "case \(i): \(log.messages)")
            XCTAssertEqual(warnings.first?.path, out.path)
            XCTAssertTrue(warnings.first?.text.hasPrefix(expected) == true, "case \(i): \(warnings)")
            XCTAssertEqual(summary.manifest.videos.first?.split, i == 1 ? .test : .train)
        }
    }

    func testNothingIngestableIsAnErrorAndWritesNothing() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let text = dir.appendingPathComponent("text.mp4")
        try Data("no video here".utf8).write(to: text)
        let out = dir.appendingPathComponent("dataset")
        let log = MessageLog()
        XCTAssertThrowsError(try Ingest(inputs: [text], output: out, options: options()).run(message: log.callback())) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .empty)
            XCTAssertTrue("\(error)".contains("no frames ingested"), "\(error)")
        }
        XCTAssertEqual(log.messages.count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
    }

    func testDatasetDoesNotDependOnTheNumberOfJobs() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        // A long clip first, so with several jobs the short ones finish before it.
        try DatasetFixtures.makeClip(videos.appendingPathComponent("a-long.mp4"), frames: 120, gop: 4, variant: 1)
        for i in 0..<3 { try DatasetFixtures.makeClip(videos.appendingPathComponent("b\(i).mp4"), frames: 10, gop: 2, variant: 2 + i) }
        // The same content twice: the earlier input (in name order) is kept, however the decodes race.
        try FileManager.default.copyItem(at: videos.appendingPathComponent("b0.mp4"), to: videos.appendingPathComponent("c-copy.mp4"))
        var digests: [[String]] = []
        for jobs in [1, 4] {
            let s = try Ingest(inputs: [videos], output: dir.appendingPathComponent("jobs\(jobs)"), options: options(shardFrames: 8, jobs: jobs)).run()
            XCTAssertEqual(s.manifest.frameCount, 45)
            XCTAssertEqual(s.manifest.videos.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["a-long.mp4", "b0.mp4", "b1.mp4", "b2.mp4"])
            XCTAssertEqual(s.alreadyPresent.map { URL(fileURLWithPath: $0).lastPathComponent }, ["c-copy.mp4"])
            digests.append(s.manifest.shards.map(\.sha256))
        }
        XCTAssertEqual(digests[0], digests[1], "same shards whatever the number of jobs")
    }

    func testASecondWriterIsRefusedWhileTheLockIsHeld() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let clip = dir.appendingPathComponent("a.mp4")
        try DatasetFixtures.makeClip(clip, frames: 10, gop: 5)
        let out = dir.appendingPathComponent("dataset")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let held = try DatasetLock(directory: out)
        XCTAssertThrowsError(try Ingest(inputs: [clip], output: out, options: options()).run()) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .locked)
            XCTAssertEqual("\(error)", "\(out.path): another process is writing this dataset (lock held on .lock)")
        }
        held.release()
        XCTAssertEqual(try Ingest(inputs: [clip], output: out, options: options()).run().manifest.frameCount, 2)
    }

    func testOptionsAreValidated() {
        var o = IngestOptions()
        o.testFraction = 1.5
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("test fraction")) }
        o = IngestOptions()
        o.selection = .fps(0)
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("fps")) }
        o = IngestOptions()
        o.shardFrames = 0
        XCTAssertThrowsError(try o.validate())
        XCTAssertNoThrow(try IngestOptions().validate())
    }
}
