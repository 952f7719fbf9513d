import Foundation

/// The strategies and schedules a configuration can name. Built-ins are registered on first use;
/// plugins and users add theirs with `StrategyRegistry.register(MyStrategy.self)` (no edit to
/// the trainer). Registering a name again replaces the earlier entry.
public enum StrategyRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var kldFactories: [String: (StrategyChoice) throws -> any KLDStrategy] = [:]
    nonisolated(unsafe) private static var betaFactories: [String: (StrategyChoice) throws -> any BetaStrategy] = [:]
    nonisolated(unsafe) private static var scheduleFactories: [String: (StrategyChoice) throws -> any TrainingSchedule] = [:]
    nonisolated(unsafe) private static var reconstructionFactories: [String: (StrategyChoice) throws -> any ReconstructionLoss] = [:]
    nonisolated(unsafe) private static var builtInsRegistered = false

    private static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        if !builtInsRegistered {
            builtInsRegistered = true
            for t in [PerSampleKLD.self, BatchKLD.self, MovingBatchKLD.self] as [any KLDStrategy.Type] { addKLD(t) }
            for t in [ConstantBeta.self, DualGradientBeta.self, LinearWarmupBeta.self, CyclicalBeta.self,
                      PIControllerBeta.self] as [any BetaStrategy.Type] { addBeta(t) }
            addSchedule(SeedSchedule.self)
            addReconstruction(FeatureMatchingLoss.self)
            addReconstruction(FeatureAndPixelLoss.self)
        }
        return try body()
    }

    private static func addKLD<S: KLDStrategy>(_ type: S.Type) {
        kldFactories[S.name] = { S(parameters: try $0.decodeParameters(S.Parameters.self)) }
    }
    private static func addBeta<S: BetaStrategy>(_ type: S.Type) {
        betaFactories[S.name] = { S(parameters: try $0.decodeParameters(S.Parameters.self)) }
    }
    private static func addSchedule<S: TrainingSchedule>(_ type: S.Type) {
        scheduleFactories[S.name] = { S(parameters: try $0.decodeParameters(S.Parameters.self)) }
    }
    private static func addReconstruction<S: ReconstructionLoss>(_ type: S.Type) {
        reconstructionFactories[S.name] = { S(parameters: try $0.decodeParameters(S.Parameters.self)) }
    }

    /// Makes `S` available by `S.name` as a KLD strategy.
    public static func register<S: KLDStrategy>(_ type: S.Type) { withLock { addKLD(type) } }
    /// Makes `S` available by `S.name` as a beta strategy.
    public static func register<S: BetaStrategy>(_ type: S.Type) { withLock { addBeta(type) } }
    /// Makes `S` available by `S.name` as a training schedule.
    public static func register<S: TrainingSchedule>(_ type: S.Type) { withLock { addSchedule(type) } }
    /// Makes `S` available by `S.name` as a reconstruction loss.
    public static func register<S: ReconstructionLoss>(_ type: S.Type) { withLock { addReconstruction(type) } }

    public static var kldNames: [String] { withLock { kldFactories.keys.sorted() } }
    public static var betaNames: [String] { withLock { betaFactories.keys.sorted() } }
    public static var scheduleNames: [String] { withLock { scheduleFactories.keys.sorted() } }
    public static var reconstructionNames: [String] { withLock { reconstructionFactories.keys.sorted() } }

    /// The KLD strategy `choice` names, with its parameters; a one-line error for an unknown name
    /// or bad parameters.
    public static func makeKLD(_ choice: StrategyChoice) throws -> any KLDStrategy {
        guard let make = withLock({ kldFactories[choice.name] }) else {
            throw TrainingError.configuration("unknown KLD strategy '\(choice.name)' (known: \(kldNames.joined(separator: ", ")))")
        }
        return try make(choice)
    }

    public static func makeBeta(_ choice: StrategyChoice) throws -> any BetaStrategy {
        guard let make = withLock({ betaFactories[choice.name] }) else {
            throw TrainingError.configuration("unknown beta strategy '\(choice.name)' (known: \(betaNames.joined(separator: ", ")))")
        }
        return try make(choice)
    }

    public static func makeSchedule(_ choice: StrategyChoice) throws -> any TrainingSchedule {
        guard let make = withLock({ scheduleFactories[choice.name] }) else {
            throw TrainingError.configuration("unknown training schedule '\(choice.name)' (known: \(scheduleNames.joined(separator: ", ")))")
        }
        return try make(choice)
    }

    public static func makeReconstruction(_ choice: StrategyChoice) throws -> any ReconstructionLoss {
        guard let make = withLock({ reconstructionFactories[choice.name] }) else {
            throw TrainingError.configuration("unknown reconstruction loss '\(choice.name)' (known: \(reconstructionNames.joined(separator: ", ")))")
        }
        return try make(choice)
    }
}
