import Foundation
import XCTest
import InkwellTestSupport
@testable import InkwellEngine

/// The autograd semantics the training step relies on (SPEC.md section 3).
final class AutogradTests: XCTestCase {
    func testGradientsAccumulateUntilCleared() {
        let w = Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        (w * 2).sum().backward()
        XCTAssertEqual(w.grad?.values, [2, 2, 2])
        (w * w).sum().backward()
        XCTAssertEqual(w.grad?.values, [4, 6, 8], "second backward adds 2w to the first gradient")
        w.zeroGrad()
        XCTAssertNil(w.grad)
        (w * 3).sum().backward()
        XCTAssertEqual(w.grad?.values, [3, 3, 3])
    }

    func testDetachedBranchGetsNoGradient() {
        let x = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let y = x * 3
        let loss = (y.detached() * y).sum()   // d/dx = 3 * y (the detached factor is a constant)
        loss.backward()
        XCTAssertEqual(x.grad?.values, [9, 18])
        XCTAssertFalse(y.detached().requiresGrad)
        XCTAssertTrue(y.detached().storage === y.storage, "detach shares values")
    }

    func testWithoutGradRecordsNothing() {
        let x = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let y = withoutGrad { (x * 2).exp() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
        XCTAssertTrue(GradMode.isEnabled, "mode is restored afterwards")
        let z = (x * 2).sum()
        XCTAssertTrue(z.requiresGrad)
    }

    func testLeavesWithoutRequiresGradGetNoGradient() {
        let data = Tensor(shape: [2], values: [1, 2])
        let w = Tensor(shape: [2], values: [3, 4], requiresGrad: true)
        (data * w).sum().backward()
        XCTAssertNil(data.grad)
        XCTAssertEqual(w.grad?.values, [1, 2])
    }

    func testBackwardToTargetsLeavesOthersUntouched() {
        let a = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let b = Tensor(shape: [2], values: [3, 4], requiresGrad: true)
        (a * b).sum().backward(to: [b])
        XCTAssertNil(a.grad)
        XCTAssertEqual(b.grad?.values, [1, 2])
    }

    func testSharedSubgraphGradientsAddUp() {
        let x = Tensor(shape: [2], values: [0.5, -1], requiresGrad: true)
        let h = x.tanh()
        let loss = (h * 2 + h.squared()).sum()
        loss.backward()
        let expected = x.values.map { v -> Float in let t = Foundation.tanh(v); return (2 + 2 * t) * (1 - t * t) }
        for (g, e) in zip(x.grad!.values, expected) { XCTAssertEqual(g, e, accuracy: 1e-6) }
    }

    // MARK: What the graph keeps between the forward and the backward

    /// A node keeps only the values its backward reads: an intermediate that no backward reads
    /// is freed as soon as the caller drops it, while the graph is still alive.
    func testValuesNoBackwardReadsAreFreedBeforeTheBackward() {
        let x = Tensor(shape: [4], values: [-1, 2, -3, 4], requiresGrad: true)
        weak var scaledStorage: TensorStorage?
        weak var activatedStorage: TensorStorage?
        var loss: Tensor
        do {
            let scaled = x * 2               // its backward reads nothing
            let activated = scaled.relu()    // its backward reads its own output
            scaledStorage = scaled.storage
            activatedStorage = activated.storage
            loss = activated.sum()
        }
        XCTAssertNil(scaledStorage, "the scaled values are read by no backward and were dropped")
        XCTAssertNotNil(activatedStorage, "ReLU's backward reads its output")
        loss.backward()
        XCTAssertEqual(x.grad?.values, [0, 2, 0, 2])
        XCTAssertNil(activatedStorage, "the graph is released after the backward")
    }

    /// A convolution of a reflection-padded input keeps the unpadded input (and the padding's
    /// recipe), not the padded copy; its weight gradient, from values padded again, is the one
    /// a stored padded input gives.
    func testConvolutionKeepsThePaddingRecipeNotThePaddedCopy() {
        var generator = RandomGenerator(seed: 5)
        // Five channels: the im2col path, whose weight gradient reads the padded input.
        let x = Tensor.uniform([2, 5, 6, 7], low: -1, high: 1, using: &generator)
        x.requiresGrad = true
        let weight = Tensor.uniform([4, 5, 3, 3], low: -1, high: 1, using: &generator)
        weight.requiresGrad = true
        weak var paddedStorage: TensorStorage?
        var out: Tensor
        do {
            let padded = reflectionPad2d(x, Padding2D(2))
            paddedStorage = padded.storage
            out = conv2d(padded, weight: weight, stride: 2)
        }
        XCTAssertNil(paddedStorage, "the padded copy is not kept for the backward")
        let upstream = Tensor.uniform(out.shape, low: -1, high: 1, using: &generator)
        out.backward(upstream)

        let storedPadded = withoutGrad { reflectionPad2d(x.detached(), Padding2D(2)) }
        storedPadded.requiresGrad = true
        let reference = Tensor(shape: weight.shape, storage: weight.storage, requiresGrad: true)
        conv2d(storedPadded, weight: reference, stride: 2).backward(upstream)
        XCTAssertEqual(weight.grad?.values, reference.grad?.values)
        XCTAssertNotNil(x.grad)
    }

    // MARK: Programmer errors stop the process with a clear message (checked in a child process)

    func testBackwardTwiceStopsWithClearMessage() throws {
        try CrashScenario.expect("backwardTwice", messageContains: "already back-propagated and released")
    }

    func testShapeMismatchNamesBothShapes() throws {
        try CrashScenario.expect("addMismatch", messageContains: "add: shape mismatch: [2, 3] vs [3, 2]")
        try CrashScenario.expect("convMismatch", messageContains: "conv2d: shape mismatch: [1, 3, 8, 8] vs [4, 2, 3, 3]")
        try CrashScenario.expect("linearMismatch", messageContains: "linear: shape mismatch: [2, 5] vs [3, 4]")
    }

    func testModifiedSavedTensorIsReported() throws {
        try CrashScenario.expect("inPlaceAfterForward", messageContains: "modified in place after the forward pass")
        try CrashScenario.expect("inPlaceUnderPaddingRecipe", messageContains: "conv2d saved for its gradient was modified in place")
    }

    /// A watched backward (what data-parallel training's overlapped gradient sums rely on) reports
    /// each target once, when its gradient is final: `w`, used twice, only after both uses have
    /// added to it; a target the loss does not reach at once, without a gradient.
    func testAWatcherSeesEachTargetOnceWhenItsGradientIsFinal() {
        let w = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let b = Tensor(shape: [2], values: [3, 4], requiresGrad: true)
        let unreached = Tensor(shape: [1], values: [0], requiresGrad: true)
        let loss = (w * b + w * w).sum()
        let recorder = FinalGradients()
        loss.backward(to: [w, b, unreached], watcher: recorder)
        XCTAssertEqual(recorder.seen.first?.0, ObjectIdentifier(unreached), "the unreached target is reported before any op")
        XCTAssertEqual(Set(recorder.seen.map(\.0)), Set([w, b, unreached].map(ObjectIdentifier.init)))
        XCTAssertEqual(recorder.seen.count, 3)
        let values = Dictionary(uniqueKeysWithValues: recorder.seen)
        XCTAssertNil(values[ObjectIdentifier(unreached)]!)
        XCTAssertEqual(values[ObjectIdentifier(w)]!, [5, 8])  // b + 2w
        XCTAssertEqual(values[ObjectIdentifier(b)]!, [1, 2])  // w
        XCTAssertGreaterThan(recorder.ops, 0)
    }
}

/// Records each target's gradient when it is reported final.
private final class FinalGradients: BackwardWatcher {
    var seen: [(ObjectIdentifier, [Float]?)] = []
    var ops = 0
    func gradientIsFinal(_ leaf: Tensor) { seen.append((ObjectIdentifier(leaf), leaf.grad.map { Array($0.buffer) })) }
    func opFinished() { ops += 1 }
}

/// Runs a scenario that must stop the process in a child process (`inkwell-test-scenarios crash
/// NAME`, Tests/InkwellTestScenarios), and checks that it did stop with the expected message.
enum CrashScenario {
    static func expect(_ name: String, messageContains expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, text) = try ChildProcess.run(try ChildProcess.testScenarios(), ["crash", name])
        XCTAssertNotEqual(status, 0, "scenario \(name) should stop the process; output:\n\(text)", file: file, line: line)
        XCTAssertTrue(text.contains(expected), "scenario \(name): expected '\(expected)' in:\n\(text.suffix(2000))", file: file, line: line)
    }
}
