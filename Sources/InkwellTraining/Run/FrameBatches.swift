import Foundation
import InkwellDataset
import InkwellEngine

/// Where a batch source is: the epoch and the index, in that epoch's order, of the next frame.
public typealias BatchPosition = DatasetLoader.Position

/// A source of image batches, (N, C, H, W) in [-1, 1], that the trainer reads. `DatasetLoader`
/// (a split of an ingested dataset) conforms; `TensorBatches` serves a tensor held in memory
/// (tests, synthetic data).
///
/// Its `position` can be saved and assigned back; the source then yields exactly the batches it
/// would have from there (this is what makes resuming exact).
public protocol FrameBatches: AnyObject {
    /// Frames in the split.
    var frameCount: Int { get }
    var batchSize: Int { get }
    /// Frame height and width.
    var height: Int { get }
    var width: Int { get }
    /// Full batches in one epoch.
    var batchesPerEpoch: Int { get }
    var position: BatchPosition { get set }
    /// The rows of each batch this process reads, in data-parallel training (nil: all of them).
    /// The position still moves by whole batches, so it is the same on every rank.
    var rows: Range<Int>? { get set }
    /// The next batch and the position it was taken from (its epoch is the batch's epoch).
    func nextBatch() throws -> (images: Tensor, position: BatchPosition)
    /// The given frames (indices in the split's own order, unshuffled), (N, C, H, W); the position
    /// does not move.
    func frames(_ indices: [Int]) throws -> Tensor
}

extension DatasetLoader: FrameBatches {
    public func nextBatch() throws -> (images: Tensor, position: BatchPosition) {
        let batch = next()
        return (batch.images, batch.position)
    }

    public func frames(_ indices: [Int]) throws -> Tensor { makeBatch(frames: indices) }
}

/// Batches drawn from images held in memory, (N, C, H, W) in [-1, 1]: each epoch a seeded
/// permutation (or dataset order when `shuffle` is false), a final partial batch dropped when
/// `dropLast`.
public final class TensorBatches: FrameBatches {
    public let images: Tensor
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool
    public var position = BatchPosition()
    public var rows: Range<Int>?

    public init(images: Tensor, batchSize: Int, seed: UInt64 = 0, shuffle: Bool = true, dropLast: Bool = true) throws {
        guard images.rank == 4 else { throw TrainingError.data("in-memory frames must be (N, C, H, W), got \(Shape.describe(images.shape))") }
        guard batchSize > 0 else { throw TrainingError.data("batch size must be positive, got \(batchSize)") }
        if dropLast, images.shape[0] < batchSize {
            throw TrainingError.data("\(images.shape[0]) frames are fewer than one batch of \(batchSize)")
        }
        self.images = images
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    public var frameCount: Int { images.shape[0] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }
    public var batchesPerEpoch: Int { dropLast ? frameCount / batchSize : (frameCount + batchSize - 1) / batchSize }

    func order(epoch: Int) -> [Int] {
        var order = Array(0..<frameCount)
        guard shuffle else { return order }
        var rng = RandomGenerator(seed: seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
        rng.shuffle(&order)
        return order
    }

    public func frames(_ indices: [Int]) throws -> Tensor {
        let per = Shape.count(Array(images.shape.dropFirst()))
        let out = Tensor(zeros: [indices.count] + Array(images.shape.dropFirst()))
        for (row, frame) in indices.enumerated() {
            guard frame >= 0 && frame < frameCount else { throw TrainingError.data("frame \(frame) is outside 0..<\(frameCount)") }
            (out.pointer + row * per).update(from: images.pointer + frame * per, count: per)
        }
        return out
    }

    public func nextBatch() throws -> (images: Tensor, position: BatchPosition) {
        var start = position
        let remaining = frameCount - start.index
        if remaining <= 0 || (dropLast && remaining < batchSize) { start = BatchPosition(epoch: start.epoch + 1, index: 0) }
        let count = min(batchSize, frameCount - start.index)
        let batch = order(epoch: start.epoch)[start.index..<(start.index + count)]
        let selected = rows.map { batch.dropFirst(min($0.lowerBound, count)).prefix($0.count) } ?? batch
        let out = try frames(Array(selected))
        position = BatchPosition(epoch: start.epoch, index: start.index + count)
        return (out, start)
    }
}
