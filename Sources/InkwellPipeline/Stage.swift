import Foundation

/// A kind of pipeline stage: what it reads, what it writes, its parameters, and how it runs.
///
/// Conformers are registered with a ``StageRegistry`` (built-in stages by InkwellStages, others by
/// plugins) and named by ``kind`` in pipeline files. A stage writes every declared output under
/// `context.outputDirectory` at the output's `relativePath`; the runner checks they exist, digests
/// them and records the stage as complete. Bump ``version`` when a change to the stage's code
/// should invalidate cached results.
public protocol Stage {
    /// The name used in pipeline files (`kind: train`).
    static var kind: String { get }
    /// Part of the cache key: bump it when the stage's outputs would change for the same inputs.
    static var version: Int { get }
    /// One paragraph for `inkwell stages`.
    static var documentation: String { get }
    static var inputs: [PortSpec] { get }
    static var outputs: [PortSpec] { get }
    static var parameters: [ParameterSpec] { get }

    init()

    /// Runs the stage. Throw to fail it (the runner stops and names the stage); check
    /// `context.cancellation` in long loops.
    func run(_ context: StageContext) throws

    /// Cross-parameter checks before anything runs (e.g. "height must follow the 2x - 1 rule");
    /// returns one message per problem, keyed by the parameter it concerns (nil for the stage).
    static func validate(_ parameters: ResolvedParameters) -> [(parameter: String?, message: String)]
}

extension Stage {
    public static var version: Int { 1 }
    public static func validate(_ parameters: ResolvedParameters) -> [(parameter: String?, message: String)] { [] }
}

/// Everything a running stage receives from the runner.
public final class StageContext: @unchecked Sendable {
    /// The stage's name in the pipeline file.
    public let stageName: String
    /// Where the stage writes its outputs; it exists when `run` is called.
    public let outputDirectory: URL
    /// The folder holding the pipeline file (for resolving user paths).
    public let pipelineDirectory: URL
    public let parameters: ResolvedParameters
    /// Bound inputs by port name (an optional input that was not bound is absent).
    public let inputs: [String: Artifact]
    public let logger: StageLogger
    public let progress: ProgressReporter
    public let cancellation: CancellationToken
    /// True when a previous attempt of this stage with the same cache key was interrupted: the
    /// output folder was kept, so the stage may continue from what it holds (training resumes
    /// from its checkpoint).
    public let isResuming: Bool
    let outputPorts: [PortSpec]

    public init(
        stageName: String, outputDirectory: URL, pipelineDirectory: URL, parameters: ResolvedParameters,
        inputs: [String: Artifact], outputPorts: [PortSpec], logger: StageLogger, progress: ProgressReporter,
        cancellation: CancellationToken, isResuming: Bool
    ) {
        self.stageName = stageName
        self.outputDirectory = outputDirectory
        self.pipelineDirectory = pipelineDirectory
        self.parameters = parameters
        self.inputs = inputs
        self.outputPorts = outputPorts
        self.logger = logger
        self.progress = progress
        self.cancellation = cancellation
        self.isResuming = isResuming
    }

    /// The bound artifact of a required input.
    public func input(_ port: String) throws -> Artifact {
        guard let artifact = inputs[port] else { throw StageError("input '\(port)' is not bound") }
        return artifact
    }

    /// Where the named output must be written.
    public func output(_ port: String) -> URL {
        guard let spec = outputPorts.first(where: { $0.name == port }) else {
            preconditionFailure("stage '\(stageName)' has no declared output '\(port)'")
        }
        return outputDirectory.appendingPathComponent(spec.relativePath)
    }

    /// Throws ``StageError/cancelled`` when the run was interrupted.
    public func checkCancellation() throws {
        if cancellation.isCancelled { throw StageError.cancelled }
    }
}

/// A stage failure with a one-line reason.
public struct StageError: Error, CustomStringConvertible, LocalizedError {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
    public static let cancelled = StageError("cancelled")
}

/// Writes a stage's log: every line goes to its log file, and to the console prefixed with the
/// stage's name unless the runner is quiet.
public final class StageLogger: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?
    private let prefix: String
    private let echo: Bool

    public init(file: URL?, stageName: String, echo: Bool) {
        if let file {
            if !FileManager.default.fileExists(atPath: file.path) { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
            handle = try? FileHandle(forWritingTo: file)
            _ = try? handle?.seekToEnd()
        } else {
            handle = nil
        }
        prefix = "[\(stageName)] "
        self.echo = echo
    }

    deinit { try? handle?.close() }

    public func info(_ message: String) { write(message) }
    public func warning(_ message: String) { write("warning: " + message) }

    private func write(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime])
        handle?.write(Data("\(stamp) \(message)\n".utf8))
        if echo { FileHandle.standardError.write(Data((prefix + message + "\n").utf8)) }
    }
}

/// Reports a stage's progress: a throttled line on the console (at most one every half second)
/// and the latest state for callers that poll.
public final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let prefix: String
    private let echo: Bool
    private var lastPrint = Date.distantPast
    public private(set) var fraction: Double = 0
    public private(set) var message: String = ""

    public init(stageName: String, echo: Bool) {
        prefix = "[\(stageName)] "
        self.echo = echo
    }

    /// `fraction` in [0, 1] (nil when unknown), `message` e.g. "step 120/300, 41 images/s".
    public func update(_ fraction: Double?, _ message: String) {
        lock.lock(); defer { lock.unlock() }
        if let fraction { self.fraction = min(max(fraction, 0), 1) }
        self.message = message
        let now = Date()
        guard echo, now.timeIntervalSince(lastPrint) >= 0.5 || (fraction ?? 0) >= 1 else { return }
        lastPrint = now
        let percent = fraction.map { String(format: "%3.0f%% ", $0 * 100) } ?? ""
        let text = (percent + message).split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
