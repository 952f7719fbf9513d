import Inkwell

/// The plugin's one entry point: Inkwell calls it once after loading the library, with the stage
/// registry. Register stages with the registry, and training strategies with InkwellTraining's
/// `StrategyRegistry` (the pipeline sees them through it). Return 0 on success.
@_cdecl("inkwell_plugin_register")
public func inkwellPluginRegister(_ registry: UnsafeMutableRawPointer) -> Int32 {
    let stages = StageRegistry.fromPluginPointer(registry)
    stages.register(CropHUDStage.self)
    StrategyRegistry.register(LogDualGradientBeta.self)
    return 0
}
