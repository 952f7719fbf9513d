import Foundation
import InkwellPipeline

/// What the CLI does before using a pipeline file: registers the built-in stages and strategies
/// once, loads the file's plugins into the shared registry, and validates it.
public enum PipelineSession {
    /// The shared registry with the built-ins registered (once: a static `let` is initialised
    /// once, thread-safely, on first use).
    public static let registry: StageRegistry = {
        BuiltinStages.register(into: .shared)
        return .shared
    }()

    /// Loads and validates a pipeline file (loading its plugins first); throws
    /// `PipelineValidationError` listing every problem with file:line:column.
    public static func load(_ path: String, overrides: [String] = []) throws -> Pipeline {
        let registry = self.registry
        let loader = PipelineLoader(registry: registry, overrides: overrides, loadPlugin: { url in
            try PluginLoader.load(url, into: registry)
        })
        return try loader.load(URL(fileURLWithPath: path))
    }
}
