import Foundation
import InkwellVideo

/// A decoded video waiting to be written: its frames (HWC uint8, concatenated), their provenance,
/// and its record (the split is filled in by the writer).
struct DecodedVideo {
    var record: VideoRecord
    var frames: [UInt8]
    var provenance: [FrameProvenance]
}

/// What became of one input file.
enum VideoOutcome {
    case decoded(DecodedVideo)
    case alreadyPresent
    /// Same content as an earlier input of this run (its path).
    case duplicate(String)
    case rejected(String)
    /// Handed to the writer already (the slot no longer holds frames).
    case taken
}

/// Decodes input files on `options.jobs` threads. Results are collected by index; the consumer
/// takes them in input order with `wait(for:)`, so the dataset's layout does not depend on timing.
final class DecodePool: @unchecked Sendable {
    private let files: [URL]
    private let options: IngestOptions
    private let known: Set<String>
    private let digests: [String: (digest: String, bytes: Int64)]
    private let condition = NSCondition()
    private var results: [VideoOutcome?]
    private var nextJob = 0
    /// The input (index) decoding each content. An earlier input takes a content over from a
    /// later one; the consumer, taking outcomes in input order, keeps the first of each content,
    /// so which input wins never depends on timing.
    private var claimed: [String: Int] = [:]
    private var framesDecoded = 0
    private var videosDone = 0
    private var cancelled = false
    private var threads: [Thread] = []
    /// Which inputs this process decodes (in an ingest shared among ranks: its share).
    private let owned: (Int) -> Bool

    struct Cancelled: Error {}

    /// - Parameter digests: SHA-256 and size of inputs already hashed, by path (not read again).
    init(files: [URL], options: IngestOptions, known: Set<String>, digests: [String: (digest: String, bytes: Int64)] = [:],
         owned: @escaping (Int) -> Bool = { _ in true }) {
        self.files = files
        self.digests = digests
        self.options = options
        self.known = known
        self.owned = owned
        results = Array(repeating: nil, count: files.count)
    }

    func start() {
        let jobs = max(1, min(options.jobs, files.count))
        for n in 0..<jobs {
            let t = Thread { [self] in self.work() }
            t.name = "inkwell.ingest.decode.\(n)"
            t.stackSize = 4 << 20
            threads.append(t)
            t.start()
        }
    }

    /// Stops the workers at their next frame.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// (frames decoded so far, videos done).
    func counters() -> (Int, Int) {
        condition.lock()
        defer { condition.unlock() }
        return (framesDecoded, videosDone)
    }

    /// Blocks until input `index` is done, calling `tick` about twice a second while waiting;
    /// hands over (and forgets) its result.
    func wait(for index: Int, tick: () -> Void) -> VideoOutcome {
        condition.lock()
        while results[index] == nil {
            condition.unlock()
            tick()
            condition.lock()
            if results[index] == nil { _ = condition.wait(until: Date().addingTimeInterval(0.5)) }
        }
        let r = results[index]!
        results[index] = .taken // release the frames
        condition.unlock()
        return r
    }

    private func work() {
        while true {
            condition.lock()
            while nextJob < files.count && !owned(nextJob) { nextJob += 1 }
            if cancelled || nextJob >= files.count { condition.unlock(); return }
            let index = nextJob
            nextJob += 1
            condition.unlock()
            let outcome: VideoOutcome
            do {
                outcome = try decode(index)
            } catch is Cancelled {
                return
            } catch let e as VideoError {
                outcome = .rejected(e.reason)
            } catch let e as DatasetError {
                outcome = .rejected(e.reason)
            } catch {
                outcome = .rejected("\(error)")
            }
            condition.lock()
            results[index] = outcome
            videosDone += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    private func decode(_ index: Int) throws -> VideoOutcome {
        let url = files[index]
        // Open first: a file that is not a video is rejected before it is read in full.
        let decoder = try VideoDecoder(url: url)
        let (sha, bytes) = try digests[url.path] ?? FileIO.sha256(ofFileAt: url)
        condition.lock()
        if known.contains(sha) { condition.unlock(); return .alreadyPresent }
        if let first = claimed[sha], first < index { condition.unlock(); return .duplicate(files[first].path) }
        claimed[sha] = index
        condition.unlock()

        let jobs = max(1, min(options.jobs, files.count))
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var decodeOptions = DecodeOptions(selection: options.selection, width: options.width, height: options.height,
                                          scaler: options.scaler, aspect: options.aspect, start: options.start,
                                          end: options.end, maxFrames: options.maxFramesPerVideo,
                                          threads: options.decoderThreads ?? max(1, cores / jobs))
        decodeOptions.crop = options.crop
        var frames: [UInt8] = []
        var provenance: [FrameProvenance] = []
        var sinceCount = 0
        let stats = try decoder.decode(decodeOptions) { frame in
            frames.append(contentsOf: frame.rgb)
            provenance.append(FrameProvenance(video: url.path, videoSHA256: sha, timestamp: frame.timestamp,
                                              isKeyFrame: frame.isKeyFrame))
            sinceCount += 1
            if sinceCount == 8 {
                condition.lock()
                framesDecoded += sinceCount
                let stop = cancelled
                condition.unlock()
                sinceCount = 0
                if stop { throw Cancelled() }
            }
        }
        condition.lock()
        framesDecoded += sinceCount
        condition.unlock()
        guard stats.framesTaken > 0 else {
            condition.lock()
            if claimed[sha] == index { claimed[sha] = nil }
            condition.unlock()
            let errors = stats.decodeErrors > 0 ? " (\(stats.decodeErrors) decode errors)" : ""
            return .rejected("no frames could be decoded\(errors)")
        }
        let info = decoder.info
        let record = VideoRecord(path: url.path, bytes: bytes, sha256: sha, duration: info.duration,
                                 container: info.container, codec: info.codec, width: info.width, height: info.height,
                                 frames: stats.framesTaken, split: .train, decodeErrors: stats.decodeErrors)
        return .decoded(DecodedVideo(record: record, frames: frames, provenance: provenance))
    }
}

/// A decoded input as bytes, to pass from the rank that decoded it to rank 0 in an ingest shared
/// among ranks: an 8-byte little-endian header length, a JSON header (the outcome, the video's
/// record, each frame's timestamp and key-frame flag), then the frames.
extension VideoOutcome {
    private struct Header: Codable {
        var kind: String
        var text: String?
        var record: VideoRecord?
        var timestamps: [Double]?
        var keyFrames: [Bool]?
    }

    func encoded() -> [UInt8] {
        var header: Header
        var frames: [UInt8] = []
        switch self {
        case .decoded(let video):
            header = Header(kind: "decoded", record: video.record, timestamps: video.provenance.map(\.timestamp),
                            keyFrames: video.provenance.map(\.isKeyFrame))
            frames = video.frames
        case .alreadyPresent, .taken: header = Header(kind: "present")
        case .duplicate(let first): header = Header(kind: "duplicate", text: first)
        case .rejected(let reason): header = Header(kind: "rejected", text: reason)
        }
        let json = (try? JSONEncoder().encode(header)) ?? Data()
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        out += json
        out += frames
        return out
    }

    /// Decodes `encoded()`'s bytes; `source` names the sender in errors.
    init(encoded bytes: [UInt8], source: String) throws {
        func fail(_ why: String) -> DatasetError { DatasetError(.incompatible, path: source, reason: why) }
        guard bytes.count >= 8 else { throw fail("a decoded video message of \(bytes.count) bytes") }
        let length = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        guard length <= bytes.count - 8, let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[8..<(8 + length)])) else {
            throw fail("a decoded video message with an unreadable header")
        }
        switch header.kind {
        case "decoded":
            guard let record = header.record, let times = header.timestamps, let keys = header.keyFrames, times.count == keys.count else {
                throw fail("a decoded video message without its record")
            }
            let provenance = zip(times, keys).map {
                FrameProvenance(video: record.path, videoSHA256: record.sha256, timestamp: $0.0, isKeyFrame: $0.1)
            }
            self = .decoded(DecodedVideo(record: record, frames: Array(bytes[(8 + length)...]), provenance: provenance))
        case "present": self = .alreadyPresent
        case "duplicate": self = .duplicate(header.text ?? "")
        default: self = .rejected(header.text ?? "rejected")
        }
    }
}
