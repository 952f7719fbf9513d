import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads stage and strategy plugins: shared libraries built outside this package (a Swift package
/// depending on Inkwell's `Inkwell` library product) that a pipeline names under `plugins:`.
///
/// The one entry point a plugin exports (see docs/PLUGINS.md):
///
///     @_cdecl("inkwell_plugin_register")
///     public func inkwellPluginRegister(_ registry: UnsafeMutableRawPointer) -> Int32 {
///         let stages = StageRegistry.fromPluginPointer(registry)
///         stages.register(MyStage.self)              // a stage kind
///         StrategyRegistry.register(MyBeta.self)    // a training strategy (InkwellTraining)
///         return 0                                  // non-zero: registration failed
///     }
///
/// The library is opened with `dlopen(RTLD_NOW | RTLD_GLOBAL)`; it must link the same Inkwell
/// modules as the host (the `Inkwell` product is a dynamic library, and the `inkwell` executable
/// exports its symbols), so the protocols and registries the plugin sees are the host's.
public enum PluginLoader {
    /// The symbol every plugin exports.
    public static let entryPoint = "inkwell_plugin_register"
    typealias RegisterFunction = @convention(c) (UnsafeMutableRawPointer) -> Int32

    /// The paths loaded so far (their libraries stay open for the life of the process).
    private static let loaded = Mutex<Set<String>>([])

    public struct LoadError: Error, CustomStringConvertible, LocalizedError {
        public var description: String
        public var errorDescription: String? { description }
    }

    /// Opens the library at `url` and calls its entry point with `registry`. Loading the same
    /// path again does nothing. Throws a one-line reason when the file is missing, is not a
    /// loadable library, lacks the entry point, or its registration reports failure.
    public static func load(_ url: URL, into registry: StageRegistry = .shared) throws {
        let path = url.standardizedFileURL.path
        try loaded.withLock { loaded in
            if loaded.contains(path) { return }
            try open(path, into: registry)
            loaded.insert(path)
        }
    }

    /// Opens the library at `path` and calls its entry point with `registry`.
    private static func open(_ path: String, into registry: StageRegistry) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LoadError(description: "no such file \(path) (build the plugin package first, e.g. `swift build` in its folder)")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw LoadError(description: "dlopen failed: \(reason)")
        }
        guard let symbol = dlsym(handle, entryPoint) else {
            dlclose(handle)
            throw LoadError(description: "\(path) does not export '\(entryPoint)' (declare it with @_cdecl(\"\(entryPoint)\"))")
        }
        let register = unsafeBitCast(symbol, to: RegisterFunction.self)
        let status = register(registry.pluginPointer)
        guard status == 0 else {
            throw LoadError(description: "\(path): '\(entryPoint)' reported failure (status \(status))")
        }
    }
}
