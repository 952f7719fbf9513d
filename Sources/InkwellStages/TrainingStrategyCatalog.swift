import Foundation
import InkwellPipeline
import InkwellTraining

/// Describes InkwellTraining's strategies (KLD, beta, step schedule) to the pipeline's registry, so
/// pipeline files are validated against exactly what the trainer can build, including strategies
/// a plugin registers with `StrategyRegistry.register(_:)` after start-up.
///
/// Families: "kld", "beta", "schedule", "reconstruction". Each strategy's parameters and defaults come from its
/// typed `Parameters()` (encoded as JSON).
public enum TrainingStrategyCatalog {
    /// One line per built-in strategy for `inkwell stages` (strategies from plugins show their
    /// parameters only).
    static let documentation: [String: String] = [
        "kld/per-sample": "textbook KLD of each sample's posterior, -0.5 (1 + logvar - mu^2 - exp(logvar)), averaged",
        "kld/batch": "KLD of the batch's latent samples, per dimension, against N(0, I) (the seed's proposal)",
        "kld/moving-batch": "as batch, with mean and variance blended into running values (momentum) across steps",
        "beta/constant": "beta fixed at 'value'",
        "beta/dual-gradient": "beta <- max(beta_min, beta + step (KLD - target)) (Variational Discriminator Bottleneck)",
        "beta/linear-warmup": "beta rises linearly from a start value to an end value over a number of steps",
        "beta/cyclical": "cyclical annealing: beta ramps up and restarts every period",
        "beta/pi-controller": "PI controller on the KLD error steering the KLD to 'target' (ControlVAE)",
        "schedule/seed": "the reference's eight sub-updates per step (SPEC.md section 3)",
        "reconstruction/feature-matching": "MSE between the discriminator's features of G(E(x)) and of x (the seed's)",
        "reconstruction/feature-matching+pixel": "feature matching times 'features' plus 'weight' times the pixel l1 or l2 error",
    ]

    /// Every strategy training knows now.
    public static func descriptors() -> [StrategyDescriptor] {
        var result: [StrategyDescriptor] = []
        for name in StrategyRegistry.kldNames {
            if let s = try? StrategyRegistry.makeKLD(InkwellTraining.StrategyChoice(name: name)) {
                result.append(describe("kld", name, s.parameters))
            }
        }
        for name in StrategyRegistry.betaNames {
            if let s = try? StrategyRegistry.makeBeta(InkwellTraining.StrategyChoice(name: name)) {
                result.append(describe("beta", name, s.parameters))
            }
        }
        for name in StrategyRegistry.scheduleNames {
            if let s = try? StrategyRegistry.makeSchedule(InkwellTraining.StrategyChoice(name: name)) {
                result.append(describe("schedule", name, s.parameters))
            }
        }
        for name in StrategyRegistry.reconstructionNames {
            if let s = try? StrategyRegistry.makeReconstruction(InkwellTraining.StrategyChoice(name: name)) {
                result.append(describe("reconstruction", name, s.parameters))
            }
        }
        return result
    }

    static func describe(_ family: String, _ name: String, _ parameters: any StrategyParameters) -> StrategyDescriptor {
        var specs: [ParameterSpec] = []
        if let data = try? JSONEncoder().encode(parameters),
           let defaults = try? JSONDecoder().decode([String: ConfigValue].self, from: data) {
            for key in defaults.keys.sorted() {
                switch defaults[key]! {
                case .number(let v): specs.append(ParameterSpec(key, .double, default: .double(v), "default \(format(v))"))
                case .bool(let v): specs.append(ParameterSpec(key, .bool, default: .bool(v), "default \(v)"))
                case .string(let v): specs.append(ParameterSpec(key, .string, default: .string(v), "default '\(v)'"))
                default: continue
                }
            }
        }
        return StrategyDescriptor(family: family, name: name, documentation: documentation["\(family)/\(name)"] ?? "", parameters: specs)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
    }

    /// The training-side choice for a validated pipeline strategy value.
    public static func choice(_ setting: StrategySetting) -> InkwellTraining.StrategyChoice {
        var parameters: [String: ConfigValue] = [:]
        for (k, v) in setting.parameters { parameters[k] = configValue(v) }
        return InkwellTraining.StrategyChoice(name: setting.name, parameters: parameters)
    }

    static func configValue(_ value: ParameterValue) -> ConfigValue {
        switch value {
        case .int(let v): return .number(Double(v))
        case .double(let v): return .number(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .list(let v): return .array(v.map(configValue))
        case .strategy(let s): return .object(choice(s).parameters.merging(["name": .string(s.name)]) { a, _ in a })
        }
    }
}
