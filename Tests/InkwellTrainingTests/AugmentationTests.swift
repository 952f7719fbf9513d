import Foundation
import InkwellEngine
import InkwellTestSupport
import InkwellTraining
import XCTest

/// The training batches' augmentations: what "jitter" does to a frame, that a frame's transform
/// depends only on its draw (so ranks and resumed runs agree), and the configuration's checks.
final class AugmentationTests: XCTestCase {
    private func jitter(_ x: Int, _ y: Int, _ channels: Double) throws -> any Augmentation {
        try StrategyRegistry.makeAugmentation(StrategyChoice(
            name: "jitter", parameters: ["shift_x": .int(x), "shift_y": .int(y), "channels": .double(channels)]))
    }

    private func draws(_ n: Int, epoch: Int = 0) -> [AugmentationDraw] {
        AugmentationDraw.batch(seed: 5, epoch: epoch, index: 0, rows: 0..<n)
    }

    /// Every output frame is its input moved by some (dx, dy) within the bounds, edges repeated,
    /// with its channels in some order; over many frames every shift and every order turns up, and
    /// the share of permuted frames is about `channels`.
    func testJitterShiftsWithinBoundsRepeatingEdgesAndPermutesChannels() throws {
        let (n, c, h, w) = (400, 3, 5, 7)
        var generator = RandomGenerator(seed: 3)
        let input = Tensor.uniform([n, c, h, w], low: -1, high: 1, using: &generator)
        let output = Tensor(zeros: input.shape)
        output.pointer.update(from: input.pointer, count: input.count)
        try jitter(2, 1, 0.5).apply(to: output, draws: draws(n))

        func pixel(_ t: Tensor, _ i: Int, _ ch: Int, _ y: Int, _ x: Int) -> Float { t.pointer[((i * c + ch) * h + y) * w + x] }
        var shifts = Set<[Int]>(), orders = Set<[Int]>(), permuted = 0
        for i in 0..<n {
            var found: [Int]?
            search: for dy in -1...1 {
                for dx in -2...2 {
                    for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
                        let matches = (0..<c).allSatisfy { ch in
                            (0..<h).allSatisfy { y in
                                (0..<w).allSatisfy { x in
                                    pixel(output, i, ch, y, x) == pixel(input, i, order[ch], min(max(y - dy, 0), h - 1), min(max(x - dx, 0), w - 1))
                                }
                            }
                        }
                        if matches { found = [dx, dy] + order; break search }
                    }
                }
            }
            guard let found else { return XCTFail("frame \(i) is not a shifted, permuted copy of its input") }
            shifts.insert(Array(found.prefix(2)))
            orders.insert(Array(found.suffix(3)))
            if Array(found.suffix(3)) != [0, 1, 2] { permuted += 1 }
        }
        XCTAssertEqual(shifts.count, 15, "every shift in [-2, 2] x [-1, 1]")
        XCTAssertEqual(orders.count, 6)
        XCTAssertEqual(Double(permuted) / Double(n), 0.5, accuracy: 0.08)
    }

    /// A grey frame stays itself under any channel order; "none" and a jitter of zeros leave the
    /// frames alone.
    func testGreysStayGreyAndZeroJitterIsIdentity() throws {
        let channelsOnly = Tensor(zeros: [8, 3, 4, 4])
        for i in 0..<8 { for p in 0..<16 { for ch in 0..<3 { channelsOnly.pointer[(i * 3 + ch) * 16 + p] = Float(p) / 16 } } }
        let before = channelsOnly.values
        try jitter(0, 0, 1).apply(to: channelsOnly, draws: draws(8))
        XCTAssertEqual(channelsOnly.values, before)

        var generator = RandomGenerator(seed: 17)
        let coloured = Tensor.uniform([8, 3, 4, 4], low: -1, high: 1, using: &generator)
        let original = coloured.values
        try jitter(0, 0, 0).apply(to: coloured, draws: draws(8))
        try StrategyRegistry.makeAugmentation(StrategyChoice(name: "none")).apply(to: coloured, draws: draws(8))
        XCTAssertEqual(coloured.values, original)
    }

    /// A frame's transform depends on its draw only: the rows of one batch transformed together,
    /// or split between two ranks, come out the same; another epoch transforms them otherwise.
    func testTransformsDependOnTheDrawOnly() throws {
        var generator = RandomGenerator(seed: 9)
        let batch = Tensor.uniform([8, 3, 6, 9], low: -1, high: 1, using: &generator)
        let augmentation = try jitter(3, 2, 0.5)
        let whole = Tensor(zeros: batch.shape)
        whole.pointer.update(from: batch.pointer, count: batch.count)
        augmentation.apply(to: whole, draws: AugmentationDraw.batch(seed: 5, epoch: 2, index: 16, rows: 0..<8))

        let per = 3 * 6 * 9
        for rows in [0..<3, 3..<8] {
            let part = Tensor(zeros: [rows.count, 3, 6, 9])
            part.pointer.update(from: batch.pointer + rows.lowerBound * per, count: rows.count * per)
            augmentation.apply(to: part, draws: AugmentationDraw.batch(seed: 5, epoch: 2, index: 16, rows: rows))
            XCTAssertEqual(part.values, Array(whole.values[(rows.lowerBound * per)..<(rows.upperBound * per)]), "rows \(rows)")
        }
        let otherEpoch = Tensor(zeros: batch.shape)
        otherEpoch.pointer.update(from: batch.pointer, count: batch.count)
        augmentation.apply(to: otherEpoch, draws: AugmentationDraw.batch(seed: 5, epoch: 3, index: 16, rows: 0..<8))
        XCTAssertNotEqual(otherEpoch.values, whole.values)
    }

    /// Configuration files and the registry check an augmentation's name and parameters.
    func testConfigurationChecksTheAugmentation() throws {
        XCTAssertThrowsError(try jitter(-1, 0, 0)) { XCTAssertTrue("\($0)".contains("strategy 'jitter': shift_x and shift_y must not be negative"), "\($0)") }
        XCTAssertThrowsError(try jitter(1, 1, 1.5)) { XCTAssertTrue("\($0)".contains("channels must be a probability"), "\($0)") }
        XCTAssertThrowsError(try StrategyRegistry.makeAugmentation(StrategyChoice(name: "mixup"))) {
            XCTAssertTrue("\($0)".contains("unknown augmentation 'mixup' (known: jitter, none)"), "\($0)")
        }
        let dir = try SharedFixtures.temporaryDirectory(self)
        let file = dir.appendingPathComponent("config.yaml")
        try "augment: {name: jitter, shift_x: 4, channels: 0.25}\n".write(to: file, atomically: true, encoding: .utf8)
        let resolved = try TrainingConfiguration.load(from: file).resolved()
        XCTAssertEqual(resolved.augment, StrategyChoice(name: "jitter", parameters: ["shift_x": .int(4), "shift_y": .int(0), "channels": .double(0.25)]))
        XCTAssertEqual(TrainingConfiguration().augment.name, "none", "the seed's method augments nothing")
        try "augment: {name: jitter, shift_y: -2}\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingConfiguration.load(from: file)) { XCTAssertTrue("\($0)".contains("config.yaml") && "\($0)".contains("shift_y"), "\($0)") }
    }
}
