import Foundation
import FuzzDriver
import Inkwell

/// The registry of the built-in stages and strategies, made once.
let registry: StageRegistry = {
    let registry = StageRegistry()
    BuiltinStages.register(into: registry)
    return registry
}()

/// libFuzzer target: resolving the names a pipeline gives for stage kinds, strategies and plugin
/// libraries. The input's lines are names (any text). Each is looked up as a stage kind and as a
/// strategy of every family (with the near-miss suggestion), built through training's
/// `StrategyRegistry`, loaded as a plugin path under a folder that does not exist (the missing
/// file is reported before any `dlopen`), and put into a pipeline (as JSON, which is YAML) as a
/// stage kind, a beta strategy and a plugin entry. Any name must resolve or give an error.
func fuzzPluginNames(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = fuzzData(bytes, count)
    let names = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for name in names.prefix(8) { resolve(name) }
    validate(names)
    return 0
}

func resolve(_ name: String) {
    _ = registry.stage(kind: name)
    _ = NameSuggestion.hint(for: name, in: registry.stages.map { $0.kind })
    for family in ["kld", "beta", "schedule"] {
        _ = registry.strategy(family: family, name: name)
        _ = NameSuggestion.hint(for: name, in: registry.strategies(family: family).map(\.name))
    }
    _ = try? StrategyRegistry.makeKLD(StrategyChoice(name: name))
    _ = try? StrategyRegistry.makeBeta(StrategyChoice(name: name))
    _ = try? StrategyRegistry.makeSchedule(StrategyChoice(name: name))
    let missing = URL(fileURLWithPath: "/nonexistent-inkwell-fuzz").appendingPathComponent(name.replacingOccurrences(of: "..", with: "_"))
    _ = try? PluginLoader.load(missing, into: registry)
}

/// A pipeline naming the first three lines as stage kind, beta strategy and plugin path.
func validate(_ names: [String]) {
    let kind = names.first ?? "", beta = names.count > 1 ? names[1] : "constant", plugin = names.count > 2 ? names[2] : "p.so"
    let document: [String: Any] = [
        "plugins": [plugin],
        "stages": [
            "a": ["kind": kind],
            "b": ["kind": "train", "inputs": ["dataset": "a"], "params": ["beta": ["name": beta]]],
        ],
    ]
    guard let json = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) else { return }
    let loader = PipelineLoader(registry: registry, loadPlugin: { _ in })
    _ = try? loader.load(data: json, file: URL(fileURLWithPath: "/fuzz/pipeline.yaml"))
}
