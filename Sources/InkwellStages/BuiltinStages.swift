import Foundation
import InkwellPipeline
import InkwellTraining

/// The built-in stage kinds and training strategies, registered into a pipeline registry.
public enum BuiltinStages {
    /// Every built-in stage kind, in pipeline order.
    public static var all: [Stage.Type] {
        [SynthStage.self, IngestStage.self, PreprocessStage.self, TrainStage.self, EvaluateStage.self, SampleStage.self,
         ExportStage.self, CompareStage.self]
    }

    /// Registers the built-in stages and a live view of training's strategies.
    public static func register(into registry: StageRegistry = .shared) {
        for stage in all { registry.register(stage) }
        registry.registerStrategySource { StrategyRegistry.entries.map(StrategyDescriptor.init) }
    }
}

extension StrategyDescriptor {
    /// A training strategy as the pipeline validates it: each default number, boolean or string
    /// of its typed `Parameters()` becomes a parameter of that type (numbers accept integers).
    init(_ entry: StrategyEntry) {
        var specs: [ParameterSpec] = []
        for key in entry.defaults.keys.sorted() {
            switch entry.defaults[key]! {
            case .int, .double:
                let v = entry.defaults[key]!.double!
                specs.append(ParameterSpec(key, .double, default: .double(v), "default \(ParameterSpec.format(v))"))
            case .bool(let v): specs.append(ParameterSpec(key, .bool, default: .bool(v), "default \(v)"))
            case .string(let v): specs.append(ParameterSpec(key, .string, default: .string(v), "default '\(v)'"))
            default: continue
            }
        }
        self.init(family: entry.family, name: entry.name, documentation: entry.documentation, parameters: specs)
    }
}
