import InkwellEngine

/// A random transform of the training batches, applied by the trainer after each batch is read and
/// before the step sees it (the test split and every evaluation see the frames as stored).
/// Conformers: `NoAugmentation` ("none", the seed's) and `JitterAugmentation` ("jitter").
///
/// Each frame's transform is drawn from its own `AugmentationDraw`, which depends only on the run's
/// seed and where the frame falls in the global shuffle (epoch, index). So every rank of a
/// data-parallel run transforms its rows as one process would, and a resumed run transforms the
/// frames it meets as the uninterrupted run would have.
///
/// A new augmentation is one new type registered with `StrategyRegistry.register(MyAugmentation.self)`;
/// the trainer finds it by `name` from the configuration (`augment:`).
public protocol Augmentation: TrainingStrategy {
    /// Transforms `images` (N, C, H, W), in [-1, 1], in place; row `i` draws from `draws[i]`.
    func apply(to images: Tensor, draws: [AugmentationDraw])
}

/// The random source of one frame's transform: a generator seeded from the run's seed, the epoch
/// and the frame's index in that epoch's global order.
public struct AugmentationDraw: Sendable, Equatable {
    public let seed: UInt64
    public let epoch: Int
    public let index: Int

    public init(seed: UInt64, epoch: Int, index: Int) {
        self.seed = seed; self.epoch = epoch; self.index = index
    }

    /// A generator that yields the same numbers for the same draw.
    public var generator: RandomGenerator {
        var h = seed ^ 0xA076_1D64_78BD_642F
        for v in [UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index))] {
            h = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        return RandomGenerator(seed: h)
    }

    /// The draws of rows `rows` (local to this process) of the global batch that starts at `index`
    /// of `epoch`: global row `rows.lowerBound + i` for local row `i`.
    public static func batch(seed: UInt64, epoch: Int, index: Int, rows: Range<Int>) -> [AugmentationDraw] {
        rows.map { AugmentationDraw(seed: seed, epoch: epoch, index: index + $0) }
    }
}

/// No augmentation: the step sees the frames as stored (the seed's method). No parameters.
public final class NoAugmentation: Augmentation {
    public struct Parameters: StrategyParameters { public init() {} }
    public static let name = "none"
    public static let documentation = "the frames as stored (the seed's)"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func apply(to images: Tensor, draws: [AugmentationDraw]) {}
}
