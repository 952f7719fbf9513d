import Foundation
import InkwellEngine
import InkwellTraining
import XCTest

/// A beta strategy defined outside the module, registered by name (as a plugin would).
///
/// StrategyRegistry has no way to unregister, and every test target shares one process, so the
/// registration outlives its test: the name is this test's own (no built-in, pipeline or other
/// test uses it) and registering it again is idempotent, so it cannot change what another test sees.
final class HalvingBeta: BetaStrategy {
    struct Parameters: StrategyParameters {
        var start: Double = 8
        init() {}
    }
    static let name = "test-halving"
    let parameters: Parameters
    private(set) var beta: Double
    init(parameters: Parameters) { self.parameters = parameters; beta = parameters.start }
    func update(kld: Double, step: Int) { beta /= 2 }
    func saveState() -> StrategyState { ["beta": [beta]] }
    func loadState(_ state: StrategyState) throws { beta = state["beta"]![0] }
}

final class StrategyTests: XCTestCase {
    func testBuiltInsAreRegisteredByName() throws {
        XCTAssertEqual(Set(StrategyRegistry.kldNames).intersection(["per-sample", "batch", "moving-batch"]).count, 3)
        XCTAssertTrue(Set(StrategyRegistry.betaNames).isSuperset(of: ["constant", "dual-gradient", "linear-warmup", "cyclical", "pi-controller"]))
        XCTAssertTrue(StrategyRegistry.scheduleNames.contains("seed"))
        let beta = try StrategyRegistry.makeBeta(StrategyChoice(name: "dual-gradient", parameters: ["target": .double(0.2)]))
        XCTAssertEqual(beta.beta, 10)
        XCTAssertEqual(beta.target, 0.2)
    }

    func testUnknownNamesAndParametersAreClearErrors() {
        XCTAssertThrowsError(try StrategyRegistry.makeKLD(StrategyChoice(name: "nope"))) { error in
            XCTAssertTrue("\(error)".contains("unknown KLD strategy 'nope'"), "\(error)")
        }
        XCTAssertThrowsError(try StrategyRegistry.makeBeta(StrategyChoice(name: "dual-gradient", parameters: ["targt": .double(1)]))) { error in
            XCTAssertTrue("\(error)".contains("unknown parameter 'targt'"), "\(error)")
        }
        XCTAssertThrowsError(try StrategyRegistry.makeBeta(StrategyChoice(name: "constant", parameters: ["value": .string("x")]))) { error in
            XCTAssertTrue("\(error)".contains("constant"), "\(error)")
        }
    }

    func testDualGradientUpdate() {
        let beta = DualGradientBeta()
        beta.update(kld: 0.6, step: 1)
        XCTAssertEqual(beta.beta, 10 + 0.1 * 0.5, accuracy: 1e-12)
        var p = DualGradientBeta.Parameters()
        p.initial = 0.002
        let low = DualGradientBeta(parameters: p)
        low.update(kld: 0, step: 1)
        XCTAssertEqual(low.beta, 1e-3)
    }

    func testWarmupCyclicalAndPIController() throws {
        var w = LinearWarmupBeta.Parameters()
        w.steps = 10
        let warm = LinearWarmupBeta(parameters: w)
        XCTAssertEqual(warm.beta, 0)
        warm.update(kld: 1, step: 5)
        XCTAssertEqual(warm.beta, 0.5, accuracy: 1e-12)
        warm.update(kld: 1, step: 50)
        XCTAssertEqual(warm.beta, 1)

        var c = CyclicalBeta.Parameters()
        c.period = 10
        let cyc = CyclicalBeta(parameters: c)
        cyc.update(kld: 0, step: 2)
        XCTAssertEqual(cyc.beta, 0.4, accuracy: 1e-12)
        cyc.update(kld: 0, step: 7)
        XCTAssertEqual(cyc.beta, 1)
        cyc.update(kld: 0, step: 11)
        XCTAssertEqual(cyc.beta, 0.2, accuracy: 1e-12)

        let pi = PIControllerBeta()
        let start = pi.beta
        for s in 1...20 { pi.update(kld: 2.0, step: s) }  // KLD above target: beta rises
        XCTAssertGreaterThan(pi.beta, start)
        let high = pi.beta
        for s in 21...40 { pi.update(kld: 0.0, step: s) }  // below target: beta falls
        XCTAssertLessThan(pi.beta, high)
        let restored = PIControllerBeta()
        try restored.loadState(pi.saveState())
        restored.update(kld: 0.3, step: 41)
        pi.update(kld: 0.3, step: 41)
        XCTAssertEqual(restored.beta, pi.beta)
    }

    func testMovingBatchKeepsDetachedBlendedStatistics() throws {
        var generator = RandomGenerator(seed: 3)
        let z = Tensor.randn([6, 5], using: &generator)
        z.requiresGrad = true
        let strategy = MovingBatchKLD()
        let value = strategy.kld(z: z, mu: z, logvar: z, update: true)
        let (mean, variance) = batchStatistics(z.detached())
        XCTAssertEqual(strategy.runningMean!.values, mean.values.map { 0.1 * 0 + 0.9 * $0 })
        XCTAssertEqual(strategy.runningVariance!.values, variance.values.map { 0.1 * 1 + 0.9 * $0 })
        XCTAssertFalse(strategy.runningMean!.requiresGrad)
        value.backward()
        XCTAssertNotNil(z.grad)
        // Evaluation does not move the state; saved state restores exactly.
        let saved = strategy.saveState()
        _ = strategy.kld(z: z.detached(), mu: z, logvar: z, update: false)
        XCTAssertEqual(strategy.saveState(), saved)
        let other = MovingBatchKLD()
        try other.loadState(saved)
        XCTAssertEqual(other.runningMean!.values, strategy.runningMean!.values)
    }

    func testExternallyRegisteredStrategyIsUsedByTheTrainer() throws {
        let builtIns = StrategyRegistry.betaNames.filter { $0 != HalvingBeta.name }
        StrategyRegistry.register(HalvingBeta.self)
        defer { StrategyRegistry.unregister(HalvingBeta.self) }
        // The registration adds this one name and leaves every other strategy as it was.
        XCTAssertEqual(StrategyRegistry.betaNames.filter { $0 != HalvingBeta.name }, builtIns)
        XCTAssertTrue(StrategyRegistry.betaNames.contains(HalvingBeta.name))
        var config = tinyConfiguration(steps: 2, evalEvery: 100)
        config.beta = StrategyChoice(name: "test-halving", parameters: ["start": .double(4)])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-plugin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(configuration: config, runDirectory: dir,
                                  train: TensorBatches(images: syntheticFrames(8), batchSize: 4), test: nil, resume: false)
        try trainer.run()
        XCTAssertEqual(trainer.beta.beta, 1)
        let saved = try Checkpoint.readState(dir.appendingPathComponent("checkpoints/latest"))
        XCTAssertEqual(saved.beta, StrategySnapshot(name: "test-halving", state: ["beta": [1]]))
    }

    func testChiDistribution() {
        // chi with 1 degree: P(|x| <= 1) for a standard normal = 0.682689...
        XCTAssertEqual(ChiDistribution(degrees: 1).cdf(1), 0.6826894921, accuracy: 1e-8)
        // chi with 2 degrees (Rayleigh): 1 - exp(-r^2 / 2).
        XCTAssertEqual(ChiDistribution(degrees: 2).cdf(1.5), 1 - exp(-1.125), accuracy: 1e-10)
        // Large D concentrates near sqrt(D).
        let chi = ChiDistribution(degrees: 1024)
        XCTAssertGreaterThan(chi.cdf(34) - chi.cdf(30), 0.99)
    }
}

final class StrategyRegistryConcurrencyTests: XCTestCase {
    /// Registering and making strategies from many threads at once is safe (the registry's store
    /// is behind a lock).
    func testConcurrentRegistrationAndLookup() throws {
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            if i % 8 == 0 { StrategyRegistry.register(HalvingBeta.self) }
            let made = try? StrategyRegistry.makeKLD(StrategyChoice(name: "moving-batch"))
            XCTAssertNotNil(made)
            XCTAssertTrue(StrategyRegistry.betaNames.contains("dual-gradient"))
        }
        XCTAssertEqual(StrategyRegistry.entries.filter { $0.family == "beta" && $0.name == "test-halving" }.count, 1)
        StrategyRegistry.unregister(HalvingBeta.self)
        XCTAssertFalse(StrategyRegistry.betaNames.contains("test-halving"), "unregistered")
        XCTAssertTrue(StrategyRegistry.betaNames.contains("dual-gradient"), "the others stay")
    }

    func testConfigurationProblemsNameTheSetting() {
        var config = TrainingConfiguration()
        config.batch = 1
        config.evalEvery = 0
        config.kld = StrategyChoice(name: "nope")
        XCTAssertEqual(config.problems().map(\.setting), ["batch", "eval_every", "kld"])
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "configuration error: batch must be at least 2 (batch statistics), got 1")
        }
    }
}
