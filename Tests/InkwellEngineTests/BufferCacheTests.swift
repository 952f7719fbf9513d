import Foundation
import XCTest
@testable import InkwellEngine

final class BufferCacheTests: XCTestCase {
    func testRoundingKeepsSmallSizesAndBoundsSlack() {
        XCTAssertEqual(BufferCache.rounded(1000), 1000)
        for bytes in [1 << 20, (1 << 20) + 1, 3_000_000, 66_433_024, 301_989_888] {
            let r = BufferCache.rounded(bytes)
            XCTAssertGreaterThanOrEqual(r, bytes)
            XCTAssertLessThanOrEqual(Double(r - bytes), Double(bytes) / 16 + 1, "slack for \(bytes)")
            XCTAssertEqual(r % 64, 0)
        }
    }

    func testFreedLargeBufferIsReusedAndZeroFillStillHolds() {
        let count = 600_000 // 2.4 MB: cached
        let before = BufferCache.statistics.hits
        do {
            let t = Tensor(repeating: 7, shape: [count])
            XCTAssertEqual(t.pointer[count - 1], 7)
        }
        let reused = Tensor(zeros: [count])
        XCTAssertGreaterThan(BufferCache.statistics.hits, before, "a buffer of the same size should come from the cache")
        XCTAssertTrue(reused.buffer.allSatisfy { $0 == 0 }, "zeros must be zeros even in a reused buffer")
        XCTAssertEqual(Int(bitPattern: reused.pointer) % 64, 0, "64-byte alignment")
    }

    func testSmallerRequestReusesALargerFreedBufferButNotAFarLargerOne() {
        BufferCache.purge() // nothing kept from earlier tests competes for the best fit
        let big = 1_500_000 // 6 MB
        var address: Int
        do {
            let t = Tensor(repeating: 1, shape: [big])
            address = Int(bitPattern: t.pointer)
            XCTAssertEqual(address % (2 << 20), 0, "buffers of 2 MiB or more are huge-page aligned")
        }
        let smaller = Tensor(zeros: [1_000_000]) // 4 MB: the 6 MB buffer fits within twice that
        XCTAssertEqual(Int(bitPattern: smaller.pointer), address, "the freed 6 MB buffer should be reused")
        XCTAssertTrue(smaller.buffer.allSatisfy { $0 == 0 })
        do {
            let t = Tensor(repeating: 1, shape: [big])
            address = Int(bitPattern: t.pointer)
        }
        let tiny = Tensor(zeros: [300_000]) // 1.2 MB: a 6 MB buffer is more than twice that
        XCTAssertNotEqual(Int(bitPattern: tiny.pointer), address)
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
