import Foundation
import Synchronization

/// What every training strategy (KLD, beta, step schedule, reconstruction loss) declares: the
/// name configuration files use, a one-line documentation for `inkwell stages`, and typed
/// `Parameters` whose `init()` holds the defaults.
public protocol TrainingStrategy: AnyObject, SendableMetatype {
    associatedtype Parameters: StrategyParameters
    /// The name configuration files use.
    static var name: String { get }
    /// One line for `inkwell stages` (default: none).
    static var documentation: String { get }
    init(parameters: Parameters)
    var parameters: Parameters { get }
}

extension TrainingStrategy {
    public static var documentation: String { "" }
    public var name: String { Self.name }
}

/// One registered strategy as `inkwell stages` and pipeline validation see it.
public struct StrategyEntry: Sendable {
    /// "kld", "beta", "schedule", "reconstruction" or "augmentation".
    public let family: String
    public let name: String
    public let documentation: String
    /// The parameters' defaults by key.
    public let defaults: [String: JSONValue]
    fileprivate let make: @Sendable (StrategyChoice) throws -> AnyObject
    /// The registered type.
    fileprivate let type: ObjectIdentifier

    fileprivate init<S: TrainingStrategy>(_ family: String, _ type: S.Type) {
        self.family = family
        name = S.name
        documentation = S.documentation
        defaults = S.Parameters().jsonValues
        make = { S(parameters: try $0.decodeParameters(S.Parameters.self)) }
        self.type = ObjectIdentifier(S.self)
    }
}

/// The strategies and schedules a configuration can name. Built-ins are registered on first use;
/// plugins and users add theirs with `StrategyRegistry.register(MyStrategy.self)` (no edit to
/// the trainer). Registering a name again replaces the earlier entry.
public enum StrategyRegistry {
    /// The registered entries by family and name, the built-ins first.
    private static let store = Mutex(builtIns())

    private static func builtIns() -> [String: [String: StrategyEntry]] {
        var entries: [String: [String: StrategyEntry]] = [:]
        let all = ([PerSampleKLD.self, BatchKLD.self, MovingBatchKLD.self] as [any KLDStrategy.Type]).map { StrategyEntry("kld", $0) }
            + ([ConstantBeta.self, DualGradientBeta.self, LinearWarmupBeta.self, CyclicalBeta.self,
                PIControllerBeta.self] as [any BetaStrategy.Type]).map { StrategyEntry("beta", $0) }
            + [StrategyEntry("schedule", SeedSchedule.self), StrategyEntry("reconstruction", FeatureMatchingLoss.self),
               StrategyEntry("reconstruction", FeatureAndPixelLoss.self)]
            + ([NoAugmentation.self, JitterAugmentation.self] as [any Augmentation.Type]).map { StrategyEntry("augmentation", $0) }
        for entry in all { entries[entry.family, default: [:]][entry.name] = entry }
        return entries
    }

    private static func add(_ entry: StrategyEntry) {
        store.withLock { $0[entry.family, default: [:]][entry.name] = entry }
    }

    private static func registered(_ family: String) -> [StrategyEntry] {
        store.withLock { ($0[family] ?? [:]).values.sorted { $0.name < $1.name } }
    }

    /// The families in listing order, with the words their errors use.
    private static let families = [("kld", "KLD strategy"), ("beta", "beta strategy"), ("schedule", "training schedule"),
                                   ("reconstruction", "reconstruction loss"), ("augmentation", "augmentation")]

    /// Makes `S` available by `S.name` as a KLD strategy.
    public static func register<S: KLDStrategy>(_ type: S.Type) { add(StrategyEntry("kld", type)) }
    /// Makes `S` available by `S.name` as a beta strategy.
    public static func register<S: BetaStrategy>(_ type: S.Type) { add(StrategyEntry("beta", type)) }
    /// Makes `S` available by `S.name` as a training schedule.
    public static func register<S: TrainingSchedule>(_ type: S.Type) { add(StrategyEntry("schedule", type)) }
    /// Makes `S` available by `S.name` as a reconstruction loss.
    public static func register<S: ReconstructionLoss>(_ type: S.Type) { add(StrategyEntry("reconstruction", type)) }
    /// Makes `S` available by `S.name` as an augmentation of the training batches.
    public static func register<S: Augmentation>(_ type: S.Type) { add(StrategyEntry("augmentation", type)) }

    /// Removes `S` from whichever families it was registered in (a plugin being unloaded, a test
    /// cleaning up). A built-in that `S` had replaced does not come back.
    public static func unregister<S: TrainingStrategy>(_ type: S.Type) {
        store.withLock { entries in
            for family in entries.keys where entries[family]?[S.name]?.type == ObjectIdentifier(S.self) {
                entries[family]?[S.name] = nil
            }
        }
    }

    /// Every registered strategy, by family ("kld", "beta", "schedule", "reconstruction", "augmentation") then name.
    public static var entries: [StrategyEntry] { families.flatMap { registered($0.0) } }

    public static var kldNames: [String] { registered("kld").map(\.name) }
    public static var betaNames: [String] { registered("beta").map(\.name) }
    public static var scheduleNames: [String] { registered("schedule").map(\.name) }
    public static var reconstructionNames: [String] { registered("reconstruction").map(\.name) }
    public static var augmentationNames: [String] { registered("augmentation").map(\.name) }

    /// The KLD strategy `choice` names, with its parameters; a one-line error for an unknown name
    /// or bad parameters.
    public static func makeKLD(_ choice: StrategyChoice) throws -> any KLDStrategy {
        try make("kld", choice) as! any KLDStrategy
    }

    public static func makeBeta(_ choice: StrategyChoice) throws -> any BetaStrategy {
        try make("beta", choice) as! any BetaStrategy
    }

    public static func makeSchedule(_ choice: StrategyChoice) throws -> any TrainingSchedule {
        try make("schedule", choice) as! any TrainingSchedule
    }

    public static func makeReconstruction(_ choice: StrategyChoice) throws -> any ReconstructionLoss {
        try make("reconstruction", choice) as! any ReconstructionLoss
    }

    public static func makeAugmentation(_ choice: StrategyChoice) throws -> any Augmentation {
        try make("augmentation", choice) as! any Augmentation
    }

    private static func make(_ family: String, _ choice: StrategyChoice) throws -> AnyObject {
        guard let entry = store.withLock({ $0[family]?[choice.name] }) else {
            let what = families.first { $0.0 == family }!.1
            let known = registered(family).map(\.name).joined(separator: ", ")
            throw TrainingError.configuration("unknown \(what) '\(choice.name)' (known: \(known))")
        }
        return try entry.make(choice)
    }
}
