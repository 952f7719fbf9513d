import InkwellEngine

/// The standard normal draws of one training step (golden/README.md's names), in the order the
/// seed's step draws them.
public enum NoiseDraw: String, CaseIterable, Sendable {
    /// Sub-step 2's reparameterisation noise (N, D).
    case gan = "eps_gan"
    /// Sub-step 4's latents for the fakes (N, D).
    case fakeLatent = "z_fake"
    /// Sub-step 6's reparameterisation noise (N, D).
    case feats = "eps_feats"
    /// Sub-step 7's reparameterisation noise (N, D).
    case kld = "eps_kld"
    /// The pixel-error pass's reparameterisation noise (N, D).
    case pixel = "eps_pixel"
}

/// Where a step's normal draws come from: a seeded generator in training, given tensors in the
/// golden check.
public protocol NoiseSource: AnyObject {
    /// Standard normal draws of `shape` for `draw`.
    func normal(_ draw: NoiseDraw, shape: [Int]) throws -> Tensor
}

/// Draws from a seeded `RandomGenerator` whose state is saved in checkpoints.
public final class SeededNoise: NoiseSource {
    public var generator: RandomGenerator
    public init(seed: UInt64) { generator = RandomGenerator(seed: seed) }
    public init(generator: RandomGenerator) { self.generator = generator }
    public func normal(_ draw: NoiseDraw, shape: [Int]) throws -> Tensor {
        Tensor.randn(shape, using: &generator)
    }
}

/// Caller-supplied draws, one tensor per `NoiseDraw` (e.g. the golden set's `noise.*`).
public final class SuppliedNoise: NoiseSource {
    public let tensors: [NoiseDraw: Tensor]
    public init(_ tensors: [NoiseDraw: Tensor]) { self.tensors = tensors }
    public func normal(_ draw: NoiseDraw, shape: [Int]) throws -> Tensor {
        guard let t = tensors[draw] else { throw TrainingError.configuration("supplied noise lacks \(draw.rawValue)") }
        guard t.shape == shape else {
            throw TrainingError.configuration("supplied noise \(draw.rawValue) has shape \(Shape.describe(t.shape)), the step needs \(Shape.describe(shape))")
        }
        return t
    }
}

/// One rank's rows of a global batch's draws: each draw is made for the whole global batch from
/// `base` and only `rows` are kept, so the generator advances on every rank exactly as in one
/// process, and each rank gets the noise one process would give its samples.
public final class RowsOfGlobalNoise: NoiseSource {
    public let base: NoiseSource
    public let globalBatch: Int
    public let rows: Range<Int>
    public init(_ base: NoiseSource, globalBatch: Int, rows: Range<Int>) {
        self.base = base; self.globalBatch = globalBatch; self.rows = rows
    }
    public func normal(_ draw: NoiseDraw, shape: [Int]) throws -> Tensor {
        guard shape.first == rows.count else {
            throw TrainingError.configuration("noise \(draw.rawValue): asked for \(Shape.describe(shape)), this rank holds \(rows.count) rows")
        }
        return try base.normal(draw, shape: [globalBatch] + shape.dropFirst()).rows(rows)
    }
}

extension Tensor {
    /// A copy of rows `range` of the first axis.
    public func rows(_ range: Range<Int>) -> Tensor {
        let per = Shape.count(Array(shape.dropFirst()))
        let out = Tensor(zeros: [range.count] + Array(shape.dropFirst()))
        out.pointer.update(from: pointer + range.lowerBound * per, count: range.count * per)
        return out
    }
}
