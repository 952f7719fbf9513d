import Foundation
import InkwellEngine

/// Reads one split of a dataset as Float batches for training and evaluation.
///
/// Shards are memory-mapped (and their SHA-256 digests checked when opened, unless `verify` is
/// false: a corrupt shard is refused with an error naming it). Each epoch visits every frame of
/// the split once in an order that depends only on `(seed, epoch)` (a Fisher-Yates shuffle driven
/// by `RandomGenerator(seed: mix(seed, epoch))`), or in dataset order when `shuffle` is false.
/// Batches are `Tensor`s of shape (N, 3, H, W) holding `(2 * v / 255) - 1`, in [-1, 1]. While the
/// caller works on one batch, the next is converted on a background thread.
///
/// `position` (epoch, index of the next frame in that epoch's order) can be saved and assigned
/// back: the loader then yields exactly the batches it would have yielded from there.
///
/// Not thread-safe: one consumer calls `next()`.
public final class DatasetLoader: @unchecked Sendable {
    /// Where the loader is: the epoch, and the index in that epoch's order of the next frame.
    public struct Position: Codable, Equatable, Sendable, CustomStringConvertible {
        public var epoch: Int
        public var index: Int
        public init(epoch: Int = 0, index: Int = 0) {
            self.epoch = epoch
            self.index = index
        }
        public var description: String { "epoch \(epoch), frame \(index)" }
    }

    /// One batch: the pixels and which frames they are.
    public struct Batch {
        /// (N, 3, H, W), values in [-1, 1].
        public let images: Tensor
        /// The frames' indices in the split (0..<frameCount, shards concatenated in order).
        public let frames: [Int]
        /// The position the batch was taken from (before it).
        public let position: Position
    }

    public let dataset: Dataset
    public let split: Split
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Whether a final batch smaller than `batchSize` is skipped (default true, for training).
    public let dropLast: Bool
    /// Frames in the split.
    public let frameCount: Int
    public var width: Int { dataset.width }
    public var height: Int { dataset.height }

    private let shards: [MappedShard]
    /// `starts[k]`: index in the split of shard k's first frame.
    private let starts: [Int]
    private let prefetch: Bool
    private var current = Position()
    /// The rows of each batch this process reads (data-parallel training: its share of the global
    /// batch); nil reads every row. The position still moves by whole batches.
    public var rows: Range<Int>?
    private var cachedOrder: (epoch: Int, order: [Int])?
    private var pending: Pending?
    private let queue = DispatchQueue(label: "inkwell.dataset.loader.prefetch", qos: .userInitiated)
    private static let lookup: [Float] = (0..<256).map { Float(2 * Double($0) / 255 - 1) }

    private final class Pending: @unchecked Sendable {
        let position: Position
        let frames: [Int]
        let done = DispatchSemaphore(value: 0)
        var images: Tensor?
        init(position: Position, frames: [Int]) {
            self.position = position
            self.frames = frames
        }
    }

    /// Opens `split` of `dataset`.
    ///
    /// - Parameters:
    ///   - batchSize: frames per batch (> 0).
    ///   - seed: the shuffle seed (default 0).
    ///   - shuffle: a new seeded order every epoch (default true); false reads in dataset order.
    ///   - dropLast: skip the last partial batch of an epoch (default true).
    ///   - verify: check every shard's SHA-256 now (default true); a corrupt shard throws `.corrupt`.
    ///   - prefetch: prepare the next batch on a background thread (default true).
    public init(dataset: Dataset, split: Split, batchSize: Int, seed: UInt64 = 0, shuffle: Bool = true,
                dropLast: Bool = true, verify: Bool = true, prefetch: Bool = true) throws {
        guard batchSize > 0 else {
            throw DatasetError(.incompatible, path: dataset.url.path, reason: "batch size must be positive, got \(batchSize)")
        }
        self.dataset = dataset
        self.split = split
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.prefetch = prefetch
        var mapped: [MappedShard] = []
        var starts: [Int] = []
        var total = 0
        for record in dataset.shards(in: split) {
            let shard = try dataset.openShard(record, verify: verify)
            starts.append(total)
            total += shard.frames
            mapped.append(shard)
        }
        shards = mapped
        self.starts = starts
        frameCount = total
        guard total > 0 else {
            let why = dataset.manifest.videoCount(split) > 0 ? ""
                : " (splits are by video, and no video is in it: a dataset needs two or more videos to fill both)"
            throw DatasetError(.empty, path: dataset.url.path, reason: "the \(split) split has no frames" + why)
        }
        if dropLast && total < batchSize {
            throw DatasetError(.empty, path: dataset.url.path,
                               reason: "the \(split) split has \(total) frames, fewer than one batch of \(batchSize)")
        }
    }

    /// Opens `split` of the dataset at `url`; see `init(dataset:split:...)`.
    public convenience init(url: URL, split: Split, batchSize: Int, seed: UInt64 = 0, shuffle: Bool = true,
                            dropLast: Bool = true, verify: Bool = true, prefetch: Bool = true) throws {
        try self.init(dataset: Dataset(url: url), split: split, batchSize: batchSize, seed: seed, shuffle: shuffle,
                      dropLast: dropLast, verify: verify, prefetch: prefetch)
    }

    deinit { pending?.done.wait() }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? frameCount / batchSize : (frameCount + batchSize - 1) / batchSize
    }

    /// The position of the next batch. Assigning it (e.g. from a checkpoint) makes the loader
    /// continue exactly from there. An index past the epoch's last batch moves to the next epoch.
    public var position: Position {
        get { current }
        set {
            precondition(newValue.epoch >= 0 && newValue.index >= 0, "DatasetLoader: invalid position \(newValue)")
            current = newValue
        }
    }

    /// The order of the split's frames in `epoch`: a permutation of 0..<frameCount that depends
    /// only on `(seed, epoch)` (identity when `shuffle` is false).
    public func order(epoch: Int) -> [Int] {
        if let cached = cachedOrder, cached.epoch == epoch { return cached.order }
        var order = Array(0..<frameCount)
        if shuffle {
            var rng = RandomGenerator(seed: Self.epochSeed(seed: seed, epoch: epoch))
            rng.shuffle(&order)
        }
        cachedOrder = (epoch, order)
        return order
    }

    static func epochSeed(seed: UInt64, epoch: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(truncatingIfNeeded: epoch) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next batch, moving to the next epoch when this one is used up (it never ends).
    public func next() -> Batch {
        let (start, frames, batchCount) = upcoming()
        let images: Tensor
        if let p = pending, p.position == start, p.frames == frames {
            p.done.wait()
            images = p.images!
        } else {
            pending?.done.wait()
            images = makeBatch(frames: frames)
        }
        pending = nil
        current = Position(epoch: start.epoch, index: start.index + batchCount)
        if prefetch {
            // Prepare the following batch on the background queue.
            let (nextStart, nextFrames, _) = upcoming()
            let job = Pending(position: nextStart, frames: nextFrames)
            pending = job
            queue.async { [self] in
                job.images = self.makeBatch(frames: nextFrames)
                job.done.signal()
            }
        }
        return Batch(images: images, frames: frames, position: start)
    }

    /// Where the batch after `current` starts (rolling over to the next epoch when too few frames
    /// are left), which of its frames this process reads (`rows`) and how many the batch holds.
    private func upcoming() -> (Position, [Int], Int) {
        var start = current
        let remaining = frameCount - start.index
        if remaining <= 0 || (dropLast && remaining < batchSize) {
            start = Position(epoch: start.epoch + 1, index: 0)
        }
        let count = min(batchSize, frameCount - start.index)
        let batch = order(epoch: start.epoch)[start.index..<(start.index + count)]
        let frames = rows.map { batch.dropFirst(min($0.lowerBound, count)).prefix($0.count) } ?? batch
        return (start, Array(frames), count)
    }

    /// A batch of the given frames (indices in the split), shape (frames.count, 3, H, W), in [-1, 1].
    public func makeBatch(frames: [Int]) -> Tensor {
        let plane = width * height
        let out = TensorStorage(count: frames.count * 3 * plane, zeroed: false)
        Self.lookup.withUnsafeBufferPointer { lut in
            for (n, index) in frames.enumerated() {
                precondition(index >= 0 && index < frameCount, "DatasetLoader: frame \(index) out of 0..<\(frameCount)")
                let src = pointer(toFrame: index)
                let r = out.pointer + n * 3 * plane
                let g = r + plane
                let b = g + plane
                Self.convert(src, r, g, b, plane, lut.baseAddress!)
            }
        }
        return Tensor(shape: [frames.count, 3, height, width], storage: out)
    }

    @inline(__always)
    private static func convert(_ src: UnsafePointer<UInt8>, _ r: UnsafeMutablePointer<Float>,
                                _ g: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                _ plane: Int, _ lut: UnsafePointer<Float>) {
        var s = src
        for p in 0..<plane {
            r[p] = lut[Int(s[0])]
            g[p] = lut[Int(s[1])]
            b[p] = lut[Int(s[2])]
            s += 3
        }
    }

    /// The raw bytes (HWC uint8) of frame `index` of the split.
    public func pointer(toFrame index: Int) -> UnsafePointer<UInt8> {
        // Binary search for the shard holding `index`.
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return shards[lo].base + (index - starts[lo]) * shards[lo].frameBytes
    }

    /// The provenance of frame `index` of the split (reads the shard's sidecar).
    public func provenance(ofFrame index: Int) throws -> FrameProvenance {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return try dataset.provenance(of: shards[lo].record)[index - starts[lo]]
    }
}
