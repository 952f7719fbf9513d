import Foundation
import InkwellEngine
import InkwellTestSupport
import InkwellTraining
import XCTest

final class TrainerTests: XCTestCase {
    private func makeTrainer(_ config: TrainingConfiguration, _ dir: URL, resume: Bool = false,
                             train: Tensor = syntheticFrames(20), test: Tensor? = syntheticFrames(7, seed: 99)) throws -> Trainer {
        try Trainer(configuration: config, runDirectory: dir,
                    train: TensorBatches(images: train, batchSize: config.batch, seed: config.seed),
                    test: try test.map { try TensorBatches(images: $0, batchSize: config.batch, shuffle: false, dropLast: false) },
                    resume: resume)
    }


    /// With and without an augmentation of the training batches (drawn per frame, so a resumed
    /// run transforms the frames as the straight one did).
    func testResumeIsBitExact() throws {
        for augment in [StrategyChoice(name: "none"),
                        StrategyChoice(name: "jitter", parameters: ["shift_x": .int(2), "shift_y": .int(1), "channels": .double(0.5)])] {
            try checkResumeIsBitExact(augment)
        }
    }

    private func checkResumeIsBitExact(_ augment: StrategyChoice) throws {
        let straight = try SharedFixtures.temporaryDirectory(self).appendingPathComponent(augment.name)
        let resumed = try SharedFixtures.temporaryDirectory(self).appendingPathComponent(augment.name + "-resumed")
        var config = tinyConfiguration(steps: 7, evalEvery: 3)
        config.augment = augment
        try makeTrainer(config, straight).run()

        // 4 steps (an evaluation at 3), a stop request (as SIGINT gives: checkpoint at 4), resume, 3 more.
        var polls = 0
        let first = try makeTrainer(config, resumed).run(shouldStop: { polls += 1; return polls == 4 })
        XCTAssertTrue(first.stoppedEarly)
        let second = try makeTrainer(config, resumed, resume: true)
        XCTAssertEqual(second.step, 4)
        try second.run()

        let a = try metricsWithoutTime(straight), b = try metricsWithoutTime(resumed)
        XCTAssertEqual(a.count, 1 + 7 + 3)
        XCTAssertEqual(a, b)
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let x = try Data(contentsOf: straight.appendingPathComponent("checkpoints/latest/\(file)"))
            let y = try Data(contentsOf: resumed.appendingPathComponent("checkpoints/latest/\(file)"))
            XCTAssertEqual(x, y, file)
        }
        let sa = try Checkpoint.readState(straight.appendingPathComponent("checkpoints/latest"))
        let sb = try Checkpoint.readState(resumed.appendingPathComponent("checkpoints/latest"))
        XCTAssertEqual(sa.noiseGenerator, sb.noiseGenerator)
        XCTAssertEqual(sa.kld, sb.kld)
        XCTAssertEqual(sa.loader, sb.loader)
    }

    func testRunDirectoryHoldsTheContractFiles() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        try makeTrainer(tinyConfiguration(steps: 6, evalEvery: 2), dir).run()
        let fm = FileManager.default
        let header = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")[0]
        XCTAssertEqual(String(header), "phase,time,step,epoch,kld,beta,feats,gen_recon,gen_fake,disc_real,disc_recon,disc_fake,pixel,z_mean,z_min,z_max,z_var,z_std_mean,z_std_min,z_std_max,z_std_var,psnr,diversity,collapsed,psnr_mean_frame,psnr_pca,fd,fd_floor")
        for step in [2, 4, 6] {
            let stamp = String(format: "%08d", step)
            let url = dir.appendingPathComponent("evaluations/step-\(stamp).json")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            for key in ["step", "epoch", "pixel_mse", "psnr", "feats", "losses", "kld", "beta", "kld_target", "latent", "diversity", "collapsed_fraction", "images"] {
                XCTAssertNotNil(json[key], "\(key) in \(url.lastPathComponent)")
            }
            let kld = json["kld"] as! [String: Double]
            XCTAssertEqual(Set(kld.keys), ["per-sample", "batch", "moving-batch"])
            let latent = json["latent"] as! [String: Any]
            let histogram = latent["distance_histogram"] as! [String: [Double]]
            XCTAssertEqual(histogram["edges"]!.count, histogram["counts"]!.count + 1)
            XCTAssertEqual(histogram["counts"]!.reduce(0, +), 7)
            XCTAssertEqual((latent["distance_chi_density"] as! [Double]).count, histogram["counts"]!.count)
            XCTAssertTrue(fm.fileExists(atPath: dir.appendingPathComponent("samples/fakes-step-\(stamp).png").path))
            XCTAssertTrue(fm.fileExists(atPath: dir.appendingPathComponent("samples/recon-step-\(stamp).png").path))
        }
        // Best 2 of 3 evaluations, ranked by test pixel error.
        let best1 = try Checkpoint.readState(dir.appendingPathComponent("checkpoints/best-1"))
        let best2 = try Checkpoint.readState(dir.appendingPathComponent("checkpoints/best-2"))
        XCTAssertFalse(fm.fileExists(atPath: dir.appendingPathComponent("checkpoints/best-3").path))
        XCTAssertLessThanOrEqual(best1.testPixel!, best2.testPixel!)
        let rows = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let testPixels = rows.filter { $0.hasPrefix("test,") }.map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[12])! }
        XCTAssertEqual(testPixels.count, 3)
        XCTAssertEqual(best1.testPixel!, testPixels.min()!, accuracy: 1e-7)
        // config.json reads back as the run's configuration (what `inkwell train --resume` uses).
        var reread = try TrainingConfiguration.load(from: dir.appendingPathComponent("config.json"))
        reread.dataset = nil
        XCTAssertEqual(reread, try tinyConfiguration(steps: 6, evalEvery: 2).resolved())
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual((config["beta"] as! [String: Any])["target"] as? Double, 0.1)
        XCTAssertEqual((config["kld"] as! [String: Any])["name"] as? String, "moving-batch")
    }

    func testStopRequestCheckpointsAndResumes() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        var polls = 0
        let summary = try makeTrainer(tinyConfiguration(steps: 10, evalEvery: 100), dir).run(shouldStop: { polls += 1; return polls == 2 })
        XCTAssertTrue(summary.stoppedEarly)
        XCTAssertEqual(summary.steps, 2)
        XCTAssertEqual(try Checkpoint.readState(dir.appendingPathComponent("checkpoints/latest")).step, 2)
    }

    /// A budget shorter than the steps need ends the run at a planned step, with the last
    /// evaluation and checkpoint there; the checkpoint keeps the plan, so a resume trains no more.
    func testTimeBudgetEndsTheRunAtAPlannedStep() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        var config = tinyConfiguration(steps: 1_000_000, evalEvery: 20)
        config.decay = .cosine
        config.minutes = 0.04
        let started = Date()
        let summary = try makeTrainer(config, dir).run()
        XCTAssertFalse(summary.stoppedEarly)
        XCTAssertGreaterThan(summary.steps, TimeBudget.calibrationSteps)
        XCTAssertLessThan(summary.steps, 1_000_000)
        // 2.4 s of budget; the bound leaves room for a loaded machine, not for the million steps.
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        XCTAssertEqual(summary.lastEvaluation?.step, summary.steps)
        let state = try Checkpoint.readState(dir.appendingPathComponent("checkpoints/latest"))
        XCTAssertEqual(state.step, summary.steps)
        XCTAssertEqual(state.plannedSteps, summary.steps)
        XCTAssertEqual(try makeTrainer(config, dir, resume: true).run().steps, summary.steps)
    }

    func testTimeBudgetPlansTheStepsThatFit() {
        let budget = TimeBudget(minutes: 10)
        // 600 s: 100 spent, 20 kept for the last evaluation, 2 s a step: 240 more steps.
        XCTAssertEqual(budget.lastStep(step: 50, target: 2000, elapsed: 100, secondsPerStep: 2, reserve: 20), 290)
        XCTAssertEqual(budget.lastStep(step: 50, target: 200, elapsed: 100, secondsPerStep: 2, reserve: 20), 200, "the steps fit")
        XCTAssertEqual(budget.lastStep(step: 50, target: 2000, elapsed: 590, secondsPerStep: 2, reserve: 20), 50, "spent: end now")
    }

    func testNonFiniteLossStopsNamingStepAndLoss() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let bad = syntheticFrames(8)
        bad.pointer[5] = .nan
        let trainer = try makeTrainer(tinyConfiguration(steps: 3), dir, train: bad)
        XCTAssertThrowsError(try trainer.run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("step 1") && text.contains("loss"), text)
        }
        XCTAssertFalse(Checkpoint.exists(at: dir.appendingPathComponent("checkpoints/latest")))
    }

    func testBadInputIsRefusedBeforeWork() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        // Fewer frames than one batch.
        XCTAssertThrowsError(try TensorBatches(images: syntheticFrames(3), batchSize: 4)) { XCTAssertTrue("\($0)".contains("fewer than one batch"), "\($0)") }
        // Frames that break the 2x - 1 rule for the widths.
        XCTAssertThrowsError(try makeTrainer(tinyConfiguration(), dir, train: syntheticFrames(8, height: 10, width: 13))) { error in
            XCTAssertTrue("\(error)".contains("2x - 1"), "\(error)")
        }
        // A run directory that already holds a run, without --resume.
        try makeTrainer(tinyConfiguration(steps: 1), dir).run()
        XCTAssertThrowsError(try makeTrainer(tinyConfiguration(steps: 1), dir)) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
        // Widths that do not fit the checkpoint being resumed.
        var wider = tinyConfiguration(steps: 2)
        wider.model.latent = 6
        XCTAssertThrowsError(try makeTrainer(wider, dir, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("do not fit"), "\(error)")
        }
        // A corrupt checkpoint.
        let weights = dir.appendingPathComponent("checkpoints/latest/model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        XCTAssertThrowsError(try makeTrainer(tinyConfiguration(steps: 2), dir, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("checkpoints/latest/state.json"))
        XCTAssertThrowsError(try makeTrainer(tinyConfiguration(steps: 2), dir, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("state.json"), "\(error)")
        }
    }

    func testConfigurationFilesJSONAndYAML() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let yaml = dir.appendingPathComponent("train.yaml")
        try """
        preset: narrow
        batch: 8
        steps: 50
        eval_every: 10
        kld: batch
        beta: {name: pi-controller, target: 0.2}
        """.write(to: yaml, atomically: true, encoding: .utf8)
        let config = try TrainingConfiguration.load(from: yaml)
        XCTAssertEqual(config.model, .narrow)
        XCTAssertEqual(config.batch, 8)
        XCTAssertEqual(config.kld.name, "batch")
        XCTAssertEqual(config.beta.parameters["target"], .double(0.2))

        let json = dir.appendingPathComponent("train.json")
        try #"{"batch": 8, "eval_evry": 10}"#.write(to: json, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingConfiguration.load(from: json)) { error in
            XCTAssertTrue("\(error)".contains("train.json") && "\(error)".contains("eval_evry"), "\(error)")
        }
        try #"{"beta": {"name": "dual-gradient", "step": "fast"}}"#.write(to: json, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingConfiguration.load(from: json)) { error in
            XCTAssertTrue("\(error)".contains("train.json") && "\(error)".contains("dual-gradient"), "\(error)")
        }
    }
}
