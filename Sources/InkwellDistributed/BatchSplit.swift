/// How a global batch of `global` samples is shared among `ranks` ranks: contiguous rows, the
/// first `global % ranks` ranks taking one more (an uneven split when it does not divide).
public struct BatchSplit: Equatable, Sendable {
    public let global: Int
    public let ranks: Int

    /// Needs at least one sample per rank.
    public init(global: Int, ranks: Int) throws {
        guard ranks >= 1, global >= ranks else {
            throw DistributedError("a global batch of \(global) cannot be shared among \(ranks) ranks (each needs at least one sample)")
        }
        self.global = global
        self.ranks = ranks
    }

    /// The rows of the global batch that `rank` holds.
    public func rows(of rank: Int) -> Range<Int> {
        let base = global / ranks, extra = global % ranks
        let start = rank * base + Swift.min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// A distributed job's failure, one line.
public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
