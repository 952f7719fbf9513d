import Foundation
import XCTest
@testable import InkwellEngine

final class BufferArenaTests: XCTestCase {
    private let mib = 1 << 20

    func testRoundingKeepsSmallSizesAndRoundsLargeOnesToTheGranule() {
        XCTAssertEqual(BufferArena.rounded(1000), 1000)
        for bytes in [1 << 20, (1 << 20) + 1, 3_000_000, 66_433_024, 301_989_888] {
            let r = BufferArena.rounded(bytes)
            XCTAssertGreaterThanOrEqual(r, bytes)
            XCTAssertLessThan(r - bytes, BufferArena.granule, "slack for \(bytes)")
            XCTAssertEqual(r % BufferArena.granule, 0)
        }
    }

    func testFreedLargeBufferIsReusedAndZeroFillStillHolds() {
        let count = 600_000 // 2.4 MB: from the arena
        let before = BufferArena.statistics.reuses
        do {
            let t = Tensor(repeating: 7, shape: [count])
            XCTAssertEqual(t.pointer[count - 1], 7)
        }
        let reused = Tensor(zeros: [count])
        XCTAssertGreaterThan(BufferArena.statistics.reuses, before, "a freed block should serve the same size again")
        XCTAssertTrue(reused.buffer.allSatisfy { $0 == 0 }, "zeros must be zeros even in a reused block")
        XCTAssertEqual(Int(bitPattern: reused.pointer) % 64, 0, "64-byte alignment")
    }

    func testBestFitSplitsAFreeBlockAndUsesTheRest() {
        var blocks = ArenaBlocks()
        let a = blocks.take(10 * mib, limit: .max)!, b = blocks.take(4 * mib, limit: .max)!, c = blocks.take(6 * mib, limit: .max)!
        XCTAssertEqual([a.offset, b.offset, c.offset], [0, 10 * mib, 14 * mib])
        XCTAssertEqual([a.grownBy, b.grownBy, c.grownBy], [10 * mib, 4 * mib, 6 * mib])
        blocks.give(offset: a.offset, size: 10 * mib)
        blocks.give(offset: c.offset, size: 6 * mib) // ends at the top
        // 5 MiB: the 6 MiB block fits best; then 4 MiB: the 10 MiB block, leaving 6 for the next 6.
        XCTAssertEqual(blocks.take(5 * mib, limit: .max)!.offset, 14 * mib)
        XCTAssertEqual(blocks.take(4 * mib, limit: .max)!.offset, 0)
        let rest = blocks.take(6 * mib, limit: .max)!
        XCTAssertEqual(rest.offset, 4 * mib)
        XCTAssertEqual(rest.grownBy, 0, "the split block's remainder serves the request without fresh pages")
        XCTAssertEqual(blocks.top, 20 * mib)
    }

    func testFreedNeighboursMergeInAnyOrder() {
        for order in [[0, 1, 2], [2, 1, 0], [0, 2, 1], [1, 0, 2]] {
            var blocks = ArenaBlocks()
            let offsets = (0..<3).map { _ in blocks.take(3 * mib, limit: .max)!.offset }
            _ = blocks.take(mib, limit: .max) // live above them: the merged block does not touch the top
            for i in order { blocks.give(offset: offsets[i], size: 3 * mib) }
            XCTAssertEqual(blocks.free.count, 1, "order \(order)")
            XCTAssertEqual(blocks.free.first?.offset, 0)
            XCTAssertEqual(blocks.free.first?.size, 9 * mib)
            let whole = blocks.take(9 * mib, limit: .max)!
            XCTAssertEqual(whole.offset, 0)
            XCTAssertEqual(whole.grownBy, 0)
        }
    }

    func testGrowingExtendsAFreeBlockAtTheTopAndStopsAtTheLimit() {
        var blocks = ArenaBlocks()
        _ = blocks.take(2 * mib, limit: 16 * mib)
        let upper = blocks.take(4 * mib, limit: 16 * mib)!
        blocks.give(offset: upper.offset, size: 4 * mib)
        let bigger = blocks.take(10 * mib, limit: 16 * mib)!
        XCTAssertEqual(bigger.offset, 2 * mib, "the free block at the top is extended, not skipped")
        XCTAssertEqual(bigger.grownBy, 6 * mib)
        XCTAssertNil(blocks.take(5 * mib, limit: 16 * mib), "past the reserved range")
        blocks.give(offset: bigger.offset, size: 10 * mib)
        blocks.lowerTop()
        XCTAssertEqual(blocks.top, 2 * mib)
        XCTAssertTrue(blocks.free.isEmpty)
    }

    func testARepeatedStepTouchesNoFreshPagesAfterTheFirst() {
        // Sizes (MiB) and lifetimes like a training step's: the same sequence every step, with
        // sizes that never repeat exactly between neighbours.
        let sizes = [62, 10, 58, 2, 9, 64, 76, 3, 136, 124, 144, 17, 6, 34, 288, 62, 10]
        var blocks = ArenaBlocks()
        var grown: [Int] = []
        for _ in 0..<3 {
            var live: [(offset: Int, size: Int)] = []
            var growth = 0
            for (i, s) in sizes.enumerated() {
                let t = blocks.take(s * mib, limit: .max)!
                growth += t.grownBy
                live.append((t.offset, s * mib))
                if i % 3 == 2 { let freed = live.remove(at: live.count / 2); blocks.give(offset: freed.offset, size: freed.size) }
            }
            for block in live.reversed() { blocks.give(offset: block.offset, size: block.size) }
            grown.append(growth)
        }
        XCTAssertGreaterThan(grown[0], 0)
        XCTAssertEqual(Array(grown.dropFirst()), [0, 0])
        XCTAssertLessThanOrEqual(blocks.top, sizes.reduce(0, +) * mib)
    }

    func testBackwardGivesTheSameGradientsWithEarlyRelease() {
        // Two paths through shared intermediates: releasing nodes as they are visited must not
        // free anything a later node still needs.
        let x = Tensor(shape: [2, 3], values: [1, -2, 3, -4, 5, -6], requiresGrad: true)
        let h = x.relu()
        let y = (h * h + h.tanh()).sum()
        y.backward()
        let expected: [Float] = [1, -2, 3, -4, 5, -6].map { v in v > 0 ? 2 * v + (1 - Foundation.tanh(v) * Foundation.tanh(v)) : 0 }
        for (a, b) in zip(x.grad!.values, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
