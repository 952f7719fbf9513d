import Foundation

/// A strategy as the pipeline sees it: its family ("kld", "beta", "schedule"), name, parameters and
/// documentation. The strategies themselves live where they are used (InkwellTraining); the
/// pipeline only validates names and parameters against these descriptors.
public struct StrategyDescriptor: Sendable {
    public var family: String
    public var name: String
    public var documentation: String
    public var parameters: [ParameterSpec]

    public init(family: String, name: String, documentation: String, parameters: [ParameterSpec]) {
        self.family = family
        self.name = name
        self.documentation = documentation
        self.parameters = parameters
    }
}

/// The stage kinds and strategies a pipeline file can name.
///
/// `StageRegistry.shared` is the process-wide registry the CLI fills with the built-in stages and
/// that plugins add to (see ``PluginLoader``). Tests make their own instances.
public final class StageRegistry: @unchecked Sendable {
    public static let shared = StageRegistry()

    private let lock = NSLock()
    private var stageKinds: [String: Stage.Type] = [:]
    private var strategyList: [StrategyDescriptor] = []
    private var strategySources: [@Sendable () -> [StrategyDescriptor]] = []

    public init() {}

    /// Registers a stage kind; a later registration of the same kind replaces the earlier one.
    public func register(_ stage: Stage.Type) {
        lock.lock(); defer { lock.unlock() }
        stageKinds[stage.kind] = stage
    }

    /// Registers one strategy descriptor.
    public func register(strategy: StrategyDescriptor) {
        lock.lock(); defer { lock.unlock() }
        strategyList.removeAll { $0.family == strategy.family && $0.name == strategy.name }
        strategyList.append(strategy)
    }

    /// Registers a source of strategy descriptors that is asked each time strategies are listed,
    /// so strategies added later to another registry (e.g. training's, by a plugin) are seen.
    public func registerStrategySource(_ source: @escaping @Sendable () -> [StrategyDescriptor]) {
        lock.lock(); defer { lock.unlock() }
        strategySources.append(source)
    }

    public func stage(kind: String) -> Stage.Type? {
        lock.lock(); defer { lock.unlock() }
        return stageKinds[kind]
    }

    /// Every stage kind, sorted by name.
    public var stages: [Stage.Type] {
        lock.lock(); defer { lock.unlock() }
        return stageKinds.keys.sorted().map { stageKinds[$0]! }
    }

    /// Every strategy (direct registrations override sources), sorted by family then name.
    public var strategies: [StrategyDescriptor] {
        lock.lock()
        let sources = strategySources
        var result = strategyList
        lock.unlock()
        for source in sources {
            for descriptor in source() where !result.contains(where: { $0.family == descriptor.family && $0.name == descriptor.name }) {
                result.append(descriptor)
            }
        }
        return result.sorted { ($0.family, $0.name) < ($1.family, $1.name) }
    }

    public func strategies(family: String) -> [StrategyDescriptor] {
        strategies.filter { $0.family == family }
    }

    public func strategy(family: String, name: String) -> StrategyDescriptor? {
        strategies.first { $0.family == family && $0.name == name }
    }

    /// The registry behind the opaque pointer a plugin's entry point receives.
    public static func fromPluginPointer(_ pointer: UnsafeMutableRawPointer) -> StageRegistry {
        Unmanaged<StageRegistry>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The opaque pointer handed to a plugin's entry point.
    public var pluginPointer: UnsafeMutableRawPointer {
        Unmanaged.passUnretained(self).toOpaque()
    }
}
