import Foundation
import InkwellDistributed
import InkwellEngine
import InkwellNN
import InkwellTraining

/// Runs one whole training step (SPEC.md section 3) against PyTorch's (`train_step.json` +
/// `train_step.safetensors`, see ../shared/golden/README.md).
///
/// The model is built from the JSON's `widths` (nothing assumed), loaded from `before.*`, and
/// stepped once with the seed schedule, the set's `noise.*` draws, the moving-batch KLD and the
/// dual-gradient beta with the JSON's hyperparameters. Compared: every `after.*` tensor's change
/// (after - before) against the reference change (relative L2 at most 5e-3), and every loss,
/// `beta_after`, `stats_mean_after`, `stats_var_after` (relative at most 1e-4).
///
/// Sets may also hold each sub-update's applied gradients, `grad.<k>.<name>` (k = 1 ... 7;
/// scripts/golden-sweep writes them). Those are compared as a second case,
/// `train_step_gradients`, at 1e-4: unlike the changes, which Adam's first step turns into
/// about lr * sign(gradient) and so amplifies near-zero gradients' rounding, the gradients are
/// well-conditioned (PyTorch float32 lands near 1e-5) and name the op an error comes from.
///
/// Under an MPI launcher (`World.communicator` of several ranks) the step runs data-parallel:
/// each rank takes its rows of the set's batch (unevenly when they do not divide) and of its
/// noise, and the same comparisons must hold on every rank.
public enum TrainStepGolden: GoldenSuite {
    public static let suiteName = "train_step"
    public static let changeTolerance = 5e-3
    public static let valueTolerance = 1e-4
    public static let gradientTolerance = 1e-4

    public static func isPresent(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("train_step.json").path)
    }

    public static func run(directory: URL) throws -> [GoldenCaseResult] {
        try run(directory: directory, communicator: World.communicator)
    }

    /// `run(directory:)` with the step shared among `communicator`'s ranks.
    public static func run(directory: URL, communicator: any Communicator) throws -> [GoldenCaseResult] {
        let jsonURL = directory.appendingPathComponent("train_step.json")
        let tensorsURL = directory.appendingPathComponent("train_step.safetensors")
        let data: Data
        do { data = try Data(contentsOf: jsonURL) } catch {
            throw GoldenError("\(jsonURL.path): cannot read: \(error.localizedDescription)")
        }
        let spec: Spec
        do { spec = try JSONDecoder().decode(Spec.self, from: data) } catch {
            throw GoldenError("\(jsonURL.path): not a train_step description: \(error)")
        }
        let file = try SafeTensorsFile(contentsOf: tensorsURL)
        let hasGradients = file.names.contains { $0.hasPrefix("grad.") }
        do {
            let (errors, gradientErrors) = try check(spec, file, communicator: communicator)
            let step = GoldenCaseResult(name: "train_step", kind: "train_step", errors: errors)
            guard hasGradients else { return [step] }
            return [step, GoldenCaseResult(name: "train_step_gradients", kind: "train_step", errors: gradientErrors)]
        } catch {
            return [GoldenCaseResult(name: "train_step", kind: "train_step", errors: [], failure: "\(error)")]
        }
    }

    /// The JSON's schema (the parts this check uses).
    struct Spec: Decodable {
        struct Widths: Decodable {
            let encoder: [Int], decoder: [Int], discriminator: [Int]
            let discriminator_hidden: Int, latent: Int
            let feature_map: [Int], frame: [Int], batch: Int
        }
        struct Hyper: Decodable {
            let lr: Double, beta1: Double, beta2: Double, eps: Double
            let beta_initial: Double, beta_step: Double, target_kld: Double, beta_min: Double
            let stats_momentum: Double, stats_mean_initial: Double, stats_var_initial: Double
            let logvar_max: Double?, bn_momentum: Double?, bn_eps: Double?, in_eps: Double?, leaky_slope: Double?
        }
        let widths: Widths
        let hyperparameters: Hyper
    }

    typealias Errors = [(tensor: String, error: Double, tolerance: Double)]

    /// The step's errors (changes, losses, beta, statistics) and, where the set has them, each
    /// sub-update's gradient errors.
    static func check(_ spec: Spec, _ file: SafeTensorsFile, communicator: any Communicator) throws -> (step: Errors, gradients: Errors) {
        let w = spec.widths, h = spec.hyperparameters
        let model = try loadModel(spec, file)
        let before = model.stateTensors().map { ($0.0, $0.1.clone()) }
        let optimizers = VAEGANOptimizers(model: model, learningRate: Float(h.lr), beta1: Float(h.beta1),
                                          beta2: Float(h.beta2), eps: Float(h.eps))
        let (kld, beta) = strategies(h)
        let context = StepContext(model: model, optimizers: optimizers, kld: kld, beta: beta)
        var gradientErrors: Errors = []
        let names = Dictionary(uniqueKeysWithValues: model.stateTensors().map { (ObjectIdentifier($0.1), $0.0) })
        var observerFailure: Error?
        var draws: [NoiseDraw: Tensor] = [:]
        for draw in NoiseDraw.allCases { draws[draw] = try file.tensor("noise.\(draw.rawValue)", shape: [w.batch, w.latent]) }
        var input = try file.tensor("input", shape: [w.batch] + w.frame)
        var noise: NoiseSource = SuppliedNoise(draws)
        if communicator.isDistributed {
            let rows = try BatchSplit(global: w.batch, ranks: communicator.size).rows(of: communicator.rank)
            input = input.rows(rows)
            noise = RowsOfGlobalNoise(noise, globalBatch: w.batch, rows: rows)
            context.gradientReducer = GradientReducer(communicator: communicator)
        }
        context.gradientObserver = { number, parameters in
            for p in parameters {
                guard let name = names[ObjectIdentifier(p)], file.contains("grad.\(number).\(name)") else { continue }
                do {
                    let reference = try file.tensor("grad.\(number).\(name)", shape: p.shape).values
                    let mine = p.grad?.values ?? [Float](repeating: 0, count: p.count)
                    gradientErrors.append(("grad.\(number).\(name)", relativeL2Error(mine, reference), gradientTolerance))
                } catch { observerFailure = error }
            }
        }

        let result = try GlobalBatch.spanning(communicator.isDistributed ? communicator : nil) {
            try SeedSchedule().run(context, images: input, noise: noise)
        }
        if let observerFailure { throw observerFailure }
        var errors = try changeErrors(model, before: before, file)
        errors += try valueErrors(result, kld: kld, beta: beta, latent: w.latent, file)
        return (errors, gradientErrors)
    }

    /// The set's model: its widths, with the state before the step loaded. Throws when the set uses
    /// a setting the model fixes (the reference's) at another value, or a frame the widths do not fit.
    private static func loadModel(_ spec: Spec, _ file: SafeTensorsFile) throws -> VAEGAN {
        let w = spec.widths, h = spec.hyperparameters
        for (name, value, fixed) in [("logvar_max", h.logvar_max, 20.0), ("bn_momentum", h.bn_momentum, 0.1),
                                     ("bn_eps", h.bn_eps, 1e-5), ("in_eps", h.in_eps, 1e-5), ("leaky_slope", h.leaky_slope, 0.01)] {
            if let value, abs(value - fixed) > 1e-12 { throw GoldenError("hyperparameter \(name) = \(value) is not supported (the model uses \(fixed))") }
        }
        let widths = ModelWidths(latent: w.latent, encoder: w.encoder, decoder: w.decoder, discriminator: w.discriminator,
                                 discriminatorHidden: w.discriminator_hidden, featureMap: w.feature_map)
        let model = try VAEGAN(widths: widths)
        guard w.frame.count == 3, w.frame[0] == widths.channels else {
            throw GoldenError("widths.frame \(w.frame) does not match \(widths.channels) image channels")
        }
        try widths.checkFrame(height: w.frame[1], width: w.frame[2])
        try model.loadState(from: file, prefix: "before.", options: StateLoadOptions(allowUnknown: false, allowMissingCounters: true))
        return model
    }

    /// The moving-batch KLD and the dual-gradient beta with the set's hyperparameters.
    private static func strategies(_ h: Spec.Hyper) -> (MovingBatchKLD, DualGradientBeta) {
        var kldParameters = MovingBatchKLD.Parameters()
        kldParameters.momentum = h.stats_momentum
        kldParameters.initialMean = h.stats_mean_initial
        kldParameters.initialVar = h.stats_var_initial
        var betaParameters = DualGradientBeta.Parameters()
        betaParameters.initial = h.beta_initial
        betaParameters.step = h.beta_step
        betaParameters.target = h.target_kld
        betaParameters.min = h.beta_min
        return (MovingBatchKLD(parameters: kldParameters), DualGradientBeta(parameters: betaParameters))
    }

    /// Each state tensor's change over the step against the set's (`after.*` minus `before.*`).
    private static func changeErrors(_ model: VAEGAN, before: [(String, Tensor)], _ file: SafeTensorsFile) throws -> Errors {
        var errors: Errors = []
        let now = Dictionary(uniqueKeysWithValues: model.stateTensors().map { ($0.0, $0.1) })
        for (name, old) in before {
            let key = "after.\(name)"
            guard file.contains(key) else { continue }
            let reference = try file.tensor(key, shape: old.shape).values
            let oldValues = old.values
            let mineChange = zip(now[name]!.values, oldValues).map { Double($0) - Double($1) }
            let referenceChange = zip(reference, oldValues).map { Double($0) - Double($1) }
            errors.append((key, relativeL2(mineChange, referenceChange), changeTolerance))
        }
        return errors
    }

    /// The step's losses, the beta after it and the KLD's running statistics against the set's.
    private static func valueErrors(_ result: StepResult, kld: MovingBatchKLD, beta: DualGradientBeta, latent: Int,
                                    _ file: SafeTensorsFile) throws -> Errors {
        var errors: Errors = []
        let losses: [(String, String)] = [("disc_orig", "disc_real"), ("disc_recon", "disc_recon"), ("gen_recon", "gen_recon"),
                                          ("disc_fake", "disc_fake"), ("gen_fake", "gen_fake"), ("feats_recon", "feats"),
                                          ("kld", "kld"), ("pixel", "pixel")]
        for (golden, mine) in losses {
            let reference = try file.tensor("loss.\(golden)").values
            errors.append(("loss.\(golden)", relativeL2([Double(result.losses[mine] ?? .nan)], reference.map(Double.init)), valueTolerance))
        }
        errors.append(("beta_after", relativeL2([beta.beta], try file.tensor("beta_after").values.map(Double.init)), valueTolerance))
        guard let mean = kld.runningMean, let variance = kld.runningVariance else { throw GoldenError("the moving-batch KLD kept no statistics") }
        errors.append(("stats_mean_after", relativeL2Error(mean.values, try file.tensor("stats_mean_after", shape: [latent]).values), valueTolerance))
        errors.append(("stats_var_after", relativeL2Error(variance.values, try file.tensor("stats_var_after", shape: [latent]).values), valueTolerance))
        return errors
    }

    /// ||a - b|| / ||b|| in double precision (||a - b|| when b is all zeros; NaN propagates).
    static func relativeL2(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) { diff += (x - y) * (x - y); norm += y * y }
        if diff.isNaN { return .nan }
        return norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
    }
}
