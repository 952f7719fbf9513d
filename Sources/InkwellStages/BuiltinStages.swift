import Foundation
import InkwellPipeline
import InkwellTraining

/// The built-in stage kinds and training strategies, registered into a pipeline registry.
public enum BuiltinStages {
    /// Every built-in stage kind, in pipeline order.
    public static let all: [Stage.Type] = [
        SynthStage.self, IngestStage.self, PreprocessStage.self, TrainStage.self, EvaluateStage.self, SampleStage.self,
        ExportStage.self, CompareStage.self,
    ]

    /// Registers the built-in stages and a live view of training's strategies.
    public static func register(into registry: StageRegistry = .shared) {
        for stage in all { registry.register(stage) }
        registry.registerStrategySource { TrainingStrategyCatalog.descriptors() }
    }
}
