import Foundation
import FuzzDriver
import Inkwell

/// The registry of the built-in stages and strategies, made once.
let registry: StageRegistry = {
    let registry = StageRegistry()
    BuiltinStages.register(into: registry)
    return registry
}()

/// libFuzzer target: a pipeline file, bytes to YAML to a validated stage graph, against the
/// built-in stages and strategies. Plugins are recorded, never opened. Any bytes must give a
/// pipeline or a `PipelineValidationError`.
func fuzzPipelineFile(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = fuzzData(bytes, count)
    let loader = PipelineLoader(registry: registry, loadPlugin: { _ in })
    _ = try? loader.load(data: data, file: URL(fileURLWithPath: "/fuzz/pipeline.yaml"))
    return 0
}
