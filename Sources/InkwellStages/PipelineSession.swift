import Foundation
import InkwellPipeline

/// What the CLI does before using a pipeline file: registers the built-in stages and strategies
/// once, loads the file's plugins into the shared registry, and validates it.
public enum PipelineSession {
    nonisolated(unsafe) private static var registered = false
    private static let lock = NSLock()

    /// The shared registry with the built-ins registered.
    public static var registry: StageRegistry {
        lock.lock(); defer { lock.unlock() }
        if !registered {
            registered = true
            BuiltinStages.register(into: .shared)
        }
        return .shared
    }

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
