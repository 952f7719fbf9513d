import Foundation
import InkwellDistributed
import InkwellVideo

/// How `Ingest` takes frames from videos and lays out the dataset.
public struct IngestOptions: Sendable, Equatable, Codable {
    /// Key frames (default), N frames per second, or every frame.
    public var selection: FrameSelection = .keyFrames
    /// Frame size (default 121 x 65).
    public var width = 121
    public var height = 65
    /// swscale filter (default area).
    public var scaler: Scaler = .area
    /// How a source of another aspect is fitted (default stretch).
    public var aspect: AspectMode = .stretch
    /// The part of each decoded picture kept before scaling (nil: the whole picture).
    public var crop: CropRectangle?
    /// Seconds from the start of each video to begin / stop taking frames (nil: whole video).
    public var start: Double?
    public var end: Double?
    /// Cap on frames per video (nil: none).
    public var maxFramesPerVideo: Int?
    /// Fraction of videos (by content hash) put in the test split (default 0.1: 9:1).
    public var testFraction = 0.1
    /// Seed of the split assignment (default 0).
    public var seed: UInt64 = 0
    /// Videos decoded at the same time (default: all cores).
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Frames per shard at most (default 1024).
    public var shardFrames = 1024
    /// libavcodec threads per video (nil: cores / jobs, at least 1).
    public var decoderThreads: Int?

    public init() {}

    /// The manifest's record of these options.
    public var parameters: IngestParameters {
        var name = "keyframes"
        var fps: Double?
        switch selection {
        case .keyFrames: name = "keyframes"
        case .fps(let r): name = "fps"; fps = r
        case .all: name = "all"
        }
        return IngestParameters(selection: name, fps: fps, scaler: scaler.rawValue, aspect: aspect.rawValue, crop: crop?.description,
                                start: start, end: end, maxFramesPerVideo: maxFramesPerVideo,
                                testFraction: testFraction, seed: seed, shardFrames: shardFrames)
    }

    /// Checks the values; the message names the bad option.
    public func validate() throws {
        func fail(_ why: String) -> DatasetError { DatasetError(.incompatible, path: "ingest options", reason: why) }
        guard width > 0, height > 0, width <= 16384, height <= 16384 else { throw fail("frame size \(width)x\(height) is not valid") }
        if case .fps(let r) = selection, !(r > 0 && r.isFinite) { throw fail("fps must be positive, got \(r)") }
        guard testFraction >= 0, testFraction <= 1 else { throw fail("test fraction must be in [0, 1], got \(testFraction)") }
        guard jobs > 0 else { throw fail("jobs must be positive, got \(jobs)") }
        guard shardFrames > 0 else { throw fail("shard frames must be positive, got \(shardFrames)") }
        if let m = maxFramesPerVideo, m <= 0 { throw fail("max frames must be positive, got \(m)") }
        if let s = start, s < 0 { throw fail("start must be >= 0, got \(s)") }
        if let s = start, let e = end, e <= s { throw fail("end \(e) must be after start \(s)") }
    }
}

/// A progress report, sent about twice a second and when a video finishes.
public struct IngestProgress: Sendable {
    public var videosDone: Int
    public var videosTotal: Int
    /// Frames decoded so far in this run.
    public var frames: Int
    public var framesPerSecond: Double
    public var elapsed: Double
    /// Seconds left, estimated from the bytes of the videos done (nil before the first one).
    public var eta: Double?

    /// e.g. `3/10 videos, 1234 frames, 456 frames/s, ETA 0:42`.
    public var line: String {
        let etaText = eta.map { Self.clock($0) } ?? "--:--"
        return "\(videosDone)/\(videosTotal) videos, \(frames) frames, \(Int(framesPerSecond.rounded())) frames/s, ETA \(etaText)"
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// A line for the user about one input.
public struct IngestMessage: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case rejected, warning, skipped }
    public var kind: Kind
    public var path: String
    public var text: String
    /// `rejected PATH: reason` (one line).
    public var description: String { "\(kind.rawValue) \(path): \(text)" }
}

/// What an ingest did.
public struct IngestSummary: Sendable {
    public var dataset: URL
    /// Videos added in this run.
    public var added: [VideoRecord]
    /// Inputs skipped because a video with the same content is already in the dataset.
    public var alreadyPresent: [String]
    /// Inputs rejected in this run.
    public var rejected: [RejectedInput]
    /// Frames added in this run.
    public var framesAdded: Int
    /// The dataset after the run.
    public var manifest: DatasetManifest
    public var elapsed: Double

    /// The CLI's exit status: 0 when every input was ingested (or already present), 3 when some
    /// were rejected but the dataset was written. (1, nothing written, is a thrown error.)
    public var exitStatus: Int32 { rejected.isEmpty ? 0 : 3 }
}

/// Ingests videos into a dataset folder: finds the inputs (files, and folders searched
/// recursively), decodes them concurrently (`jobs`), writes frames to shards in input order, splits
/// by video, and commits the manifest after every `commitEvery` inputs and last, so a kill loses at
/// most the videos since the last commit. Videos whose content is already in the dataset are
/// skipped, so re-running over a grown folder adds only the new ones. Every bad input is reported
/// (one `IngestMessage` naming the file and reason) and listed in the manifest's `rejected`; the rest
/// are still ingested. Throws (`DatasetError`) only when nothing could be written; the previous
/// dataset is then left as it was.
public final class Ingest {
    public let inputs: [URL]
    public let output: URL
    public let options: IngestOptions
    /// Test seam: called at write points (after each shard, before each manifest); a throw fails
    /// the ingest there, which then cleans up as after any failure.
    var faultHook: ((WriteEvent) throws -> Void)?
    /// The manifest is committed after every this many inputs (counted in input order, so an
    /// interrupted ingest and its rerun commit at the same points and write the same shards).
    var commitEvery = 4
    /// The ranks that share the decoding (`mpirun -np N inkwell ingest`): rank K decodes inputs
    /// K, K + N, ... and sends them to rank 0, which writes every video in input order, so the
    /// dataset is the one a single process makes. One process by default.
    public var communicator: any Communicator = SingleProcess()

    /// What rank 0 tells the other ranks to decode: the inputs in order and the content already
    /// in the dataset.
    private struct Plan: Codable {
        var files: [String]
        var known: [String]
    }

    public init(inputs: [URL], output: URL, options: IngestOptions = IngestOptions()) {
        self.inputs = inputs
        self.output = output.standardizedFileURL
        self.options = options
    }

    /// Runs the ingest. `progress` and `message` are called on the calling thread.
    public func run(progress: ((IngestProgress) -> Void)? = nil,
                    message: ((IngestMessage) -> Void)? = nil) throws -> IngestSummary {
        try options.validate()
        let began = Date()
        if communicator.isDistributed && !communicator.isRoot { return try decodeForRoot(began: began) }
        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(.writeFailed, path: output.path, reason: "cannot create dataset folder: \(error.localizedDescription)")
        }
        let lock = try DatasetLock(directory: output)
        defer { lock.release() }
        let existing = try existingManifest()
        ShardWriter.removeLeftovers(in: output, keeping: existing)
        let manifest = existing ?? DatasetManifest(width: options.width, height: options.height, parameters: options.parameters)

        let found = InputDiscovery.expand(inputs, excluding: output)
        for r in found.rejected { message?(IngestMessage(kind: .rejected, path: r.path, text: r.reason)) }
        let splits = SplitPlan.make(existing: manifest.videos, inputs: found.files, seed: options.seed, testFraction: options.testFraction)
        // Decode concurrently (this rank's share); commit in input order.
        let ranks = communicator.size
        if ranks > 1 {
            let plan = Plan(files: found.files.map(\.path), known: manifest.videos.map(\.sha256))
            _ = communicator.broadcast(Array(try JSONEncoder().encode(plan)), root: 0)
        }
        let pool = DecodePool(files: found.files, options: options, known: Set(manifest.videos.map(\.sha256)), digests: splits.digests,
                              owned: { $0 % ranks == 0 })
        pool.start()
        let writer = try ShardWriter(directory: output, width: options.width, height: options.height,
                                     shardFrames: options.shardFrames, existing: manifest.shards)
        writer.faultHook = faultHook
        let pass = IngestPass(ingest: self, manifest: manifest, isNew: existing == nil, found: found, splits: splits,
                              pool: pool, writer: writer, began: began, progress: progress, message: message)
        let summary: IngestSummary
        do {
            summary = try pass.writeAll()
        } catch {
            pool.cancel()
            // Leave the dataset exactly as its last commit.
            ShardWriter.removeLeftovers(in: output, keeping: pass.committed)
            if pass.committed == nil { Self.removeEmptyDataset(output) }
            throw error
        }
        if let warning = Self.emptySplitWarning(summary.manifest, testFraction: options.testFraction) {
            message?(IngestMessage(kind: .warning, path: output.path, text: warning))
        }
        return summary
    }

    /// Why a dataset of videos has an empty split, when it was not asked for (a test fraction of
    /// 0 asks for no test split): splits are by video, so a single video fills only one.
    static func emptySplitWarning(_ manifest: DatasetManifest, testFraction: Double) -> String? {
        guard !manifest.videos.isEmpty else { return nil }
        let has = (train: manifest.videoCount(.train) > 0, test: manifest.videoCount(.test) > 0)
        let count = manifest.videos.count == 1 ? "its one video" : "all \(manifest.videos.count) videos"
        if !has.test && testFraction > 0 {
            return "the test split is empty: splits are by video, and \(count) went to train; add another video to evaluate on"
        }
        if !has.train {
            return "the training split is empty: splits are by video, and \(count) went to test (test fraction \(testFraction)); add another video to train on"
        }
        return nil
    }

    /// The dataset's manifest when the folder holds one that these options can extend; nil for a
    /// new dataset.
    private func existingManifest() throws -> DatasetManifest? {
        guard FileManager.default.fileExists(atPath: output.appendingPathComponent(DatasetManifest.fileName).path) else { return nil }
        let manifest = try DatasetManifest.read(datasetAt: output)
        guard manifest.preprocess.isEmpty else {
            throw DatasetError(.incompatible, path: output.path, reason: "dataset was made by preprocessing; ingest into its source instead")
        }
        guard manifest.width == options.width, manifest.height == options.height else {
            throw DatasetError(.incompatible, path: output.path,
                               reason: "dataset frames are \(manifest.width)x\(manifest.height), not \(options.width)x\(options.height); use another --out")
        }
        guard manifest.parameters.isCompatible(with: options.parameters) else {
            throw DatasetError(.incompatible, path: output.path,
                               reason: "dataset was ingested with different parameters (\(Self.describe(manifest.parameters))) than now (\(Self.describe(options.parameters))); use another --out")
        }
        return manifest
    }

    /// A rank other than 0: decodes its share of rank 0's inputs and sends each to rank 0, in
    /// input order. Writes nothing.
    private func decodeForRoot(began: Date) throws -> IngestSummary {
        let plan: Plan
        do { plan = try JSONDecoder().decode(Plan.self, from: Data(communicator.broadcast(nil, root: 0))) } catch {
            throw DatasetError(.incompatible, path: output.path, reason: "rank \(communicator.rank): unreadable ingest plan from rank 0: \(error)")
        }
        let (rank, ranks) = (communicator.rank, communicator.size)
        let files = plan.files.map { URL(fileURLWithPath: $0) }
        let pool = DecodePool(files: files, options: options, known: Set(plan.known), owned: { $0 % ranks == rank })
        pool.start()
        for i in files.indices where i % ranks == rank {
            communicator.send(pool.wait(for: i) {}.encoded(), to: 0)
        }
        return IngestSummary(dataset: output, added: [], alreadyPresent: [], rejected: [], framesAdded: 0,
                             manifest: DatasetManifest(width: options.width, height: options.height, parameters: options.parameters),
                             elapsed: Date().timeIntervalSince(began))
    }

    static func describe(_ p: IngestParameters) -> String {
        var parts = [p.selection == "fps" ? "fps \(p.fps ?? 0)" : p.selection, "scaler \(p.scaler)", "aspect \(p.aspect)",
                     "test fraction \(p.testFraction)", "seed \(p.seed)"]
        if let c = p.crop { parts.append("crop \(c)") }
        if let m = p.maxFramesPerVideo { parts.append("max frames \(m)") }
        if let s = p.start { parts.append("start \(s)") }
        if let e = p.end { parts.append("end \(e)") }
        return parts.joined(separator: ", ")
    }

    /// Removes the folders a failed first ingest created (only if they hold nothing else).
    private static func removeEmptyDataset(_ url: URL) {
        let shards = url.appendingPathComponent(ShardWriter.shardsFolder)
        rmdir(shards.path)
        unlink(url.appendingPathComponent(".lock").path)
        rmdir(url.path)
    }
}

/// One ingest's writing on rank 0: takes each input's outcome in input order (from the decode
/// pool, or from the rank that decoded it), appends decoded videos to the shards, commits every
/// `commitEvery` inputs and last, and reports progress and messages.
private final class IngestPass {
    let ingest: Ingest
    /// The dataset before this run (its manifest, or a new one).
    var manifest: DatasetManifest
    let isNew: Bool
    let files: [URL]
    let discoveryRejected: [RejectedInput]
    let sizes: [Int64]
    let totalBytes: Int64
    let splits: SplitPlan
    let pool: DecodePool
    let writer: ShardWriter
    let began: Date
    let progress: ((IngestProgress) -> Void)?
    let message: ((IngestMessage) -> Void)?

    var rejected: [RejectedInput]
    var added: [VideoRecord] = []
    var alreadyPresent: [String] = []
    var framesAdded = 0
    /// The last manifest on disk: kept by a failure, like the dataset before this run.
    var committed: DatasetManifest?
    var bytesDone: Int64 = 0
    var lastReport = Date.distantPast
    /// The first input (in input order) of each content decoded in this run.
    var firstOfContent: [String: String] = [:]

    init(ingest: Ingest, manifest: DatasetManifest, isNew: Bool, found: (files: [URL], rejected: [RejectedInput]), splits: SplitPlan,
         pool: DecodePool, writer: ShardWriter, began: Date, progress: ((IngestProgress) -> Void)?, message: ((IngestMessage) -> Void)?) {
        self.ingest = ingest
        self.manifest = manifest
        self.isNew = isNew
        files = found.files
        discoveryRejected = found.rejected
        rejected = found.rejected
        sizes = found.files.map { ((try? FileManager.default.attributesOfItem(atPath: $0.path))?[.size] as? NSNumber)?.int64Value ?? 0 }
        totalBytes = sizes.reduce(0, +)
        self.splits = splits
        self.pool = pool
        self.writer = writer
        self.began = began
        self.progress = progress
        self.message = message
        committed = isNew ? nil : manifest
    }

    /// Writes every input's frames and commits the manifest; returns the run's summary.
    func writeAll() throws -> IngestSummary {
        for i in files.indices {
            let outcome = try outcome(of: i) { if Date().timeIntervalSince(lastReport) >= 0.5 { report(done: i) } }
            bytesDone += sizes[i]
            try take(outcome, path: files[i].path)
            if (i + 1) % ingest.commitEvery == 0, i + 1 < files.count { try commitProgress() }
            report(done: i + 1)
        }
        let newShards = try writer.finish()
        let examined = Set(files.map(\.path) + discoveryRejected.map(\.path))
        let previousRejected = manifest.rejected
        manifest.rejected = manifest.rejected.filter { !examined.contains($0.path) } + rejected
        if newShards.isEmpty && manifest.rejected == previousRejected && !isNew {
            // Nothing new: leave the dataset exactly as it is.
            return summary(framesAdded: 0)
        }
        guard manifest.frameCount + framesAdded > 0 else {
            let inputCount = files.count + discoveryRejected.count
            let why = inputCount == 0 ? "no input files found" : "\(rejected.count) of \(inputCount) inputs rejected"
            throw DatasetError(.empty, path: ingest.output.path, reason: "no frames ingested (\(why)); nothing written")
        }
        manifest.shards += newShards
        manifest.videos += added
        manifest.parameters.shardFrames = ingest.options.shardFrames
        manifest.updated = DatasetManifest.now()
        manifest.updateSplitSummaries()
        try writer.commit(manifest)
        return summary(framesAdded: framesAdded)
    }

    private func summary(framesAdded: Int) -> IngestSummary {
        IngestSummary(dataset: ingest.output, added: added, alreadyPresent: alreadyPresent, rejected: rejected,
                      framesAdded: framesAdded, manifest: manifest, elapsed: Date().timeIntervalSince(began))
    }

    /// Input `i`'s outcome: from this process's pool, or received from the rank that decoded it.
    /// A content decoded for an earlier input makes this one its duplicate, whichever finished
    /// decoding first.
    private func outcome(of i: Int, tick: () -> Void) throws -> VideoOutcome {
        let ranks = ingest.communicator.size
        var result = i % ranks == 0 ? pool.wait(for: i, tick: tick)
            : try VideoOutcome(encoded: ingest.communicator.receive(from: i % ranks), source: "\(files[i].path) (decoded by rank \(i % ranks))")
        if case .decoded(let video) = result {
            if let first = firstOfContent[video.record.sha256] { result = .duplicate(first) } else { firstOfContent[video.record.sha256] = files[i].path }
        }
        return result
    }

    /// Records an input's outcome: its frames appended to the shards, or why it was skipped.
    private func take(_ outcome: VideoOutcome, path: String) throws {
        switch outcome {
        case .rejected(let reason):
            rejected.append(RejectedInput(path: path, reason: reason))
            message?(IngestMessage(kind: .rejected, path: path, text: reason))
        case .alreadyPresent, .taken:
            alreadyPresent.append(path)
            message?(IngestMessage(kind: .skipped, path: path, text: "already in the dataset (same content)"))
        case .duplicate(let first):
            alreadyPresent.append(path)
            message?(IngestMessage(kind: .skipped, path: path, text: "same content as \(first)"))
        case .decoded(var video):
            video.record.split = splits.split(videoSHA256: video.record.sha256)
            if video.record.decodeErrors > 0 {
                message?(IngestMessage(kind: .warning, path: path,
                                       text: "\(video.record.decodeErrors) decode error(s) (damaged or truncated data); \(video.record.frames) frames kept"))
            }
            try video.frames.withUnsafeBytes {
                try writer.append($0, provenance: video.provenance, split: video.record.split)
            }
            framesAdded += video.record.frames
            added.append(video.record)
        }
    }

    /// Writes the shards so far (partly filled ones too) and a manifest listing them.
    private func commitProgress() throws {
        guard framesAdded > 0, committed.map({ $0.videos.count < manifest.videos.count + added.count }) ?? true else { return }
        var progress = manifest
        progress.shards += try writer.finish()
        progress.videos += added
        progress.parameters.shardFrames = ingest.options.shardFrames
        progress.updated = DatasetManifest.now()
        progress.updateSplitSummaries()
        try writer.commit(progress)
        committed = progress
    }

    private func report(done: Int) {
        guard let progress else { return }
        let (frames, _) = pool.counters()
        let elapsed = Date().timeIntervalSince(began)
        let eta: Double? = bytesDone > 0 ? elapsed * Double(totalBytes - bytesDone) / Double(bytesDone) : nil
        progress(IngestProgress(videosDone: done, videosTotal: files.count, frames: frames,
                                framesPerSecond: elapsed > 0 ? Double(frames) / elapsed : 0,
                                elapsed: elapsed, eta: eta))
        lastReport = Date()
    }
}

/// Finds the input files: named files as they are; folders searched recursively in name order,
/// skipping hidden entries and the dataset folder itself.
enum InputDiscovery {
    static func expand(_ inputs: [URL], excluding output: URL) -> (files: [URL], rejected: [RejectedInput]) {
        var files: [URL] = []
        var rejected: [RejectedInput] = []
        var seen = Set<String>()
        let outputPath = output.standardizedFileURL.path
        func add(_ url: URL) {
            let path = url.standardizedFileURL.path
            if seen.insert(path).inserted { files.append(URL(fileURLWithPath: path)) }
        }
        func walk(_ dir: URL) {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir.path) } catch {
                rejected.append(RejectedInput(path: dir.path, reason: "cannot read folder: \(String(cString: strerror(errno)))"))
                return
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = dir.appendingPathComponent(name).standardizedFileURL
                if child.path == outputPath { continue }
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: child.path, isDirectory: &isDir) else {
                    rejected.append(RejectedInput(path: child.path, reason: "cannot read: broken link or vanished file"))
                    continue
                }
                if isDir.boolValue { walk(child) } else { add(child) }
            }
        }
        for input in inputs {
            let url = input.standardizedFileURL
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
                rejected.append(RejectedInput(path: url.path, reason: "no such file or folder"))
                continue
            }
            if isDir.boolValue { walk(url) } else { add(url) }
        }
        return (files, rejected)
    }
}
