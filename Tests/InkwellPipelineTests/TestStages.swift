import Foundation
import InkwellPipeline

/// Which test stages ran, in order (tests run serially within this target).
enum Journal {
    nonisolated(unsafe) static var entries: [String] = []
    static func reset() { entries = [] }
}

/// Writes `count` lines of `text` into a dataset folder; optionally reads a path parameter.
struct SourceStage: Stage {
    static let kind = "source"
    static let documentation = "Test source: writes a small text dataset."
    static let inputs: [PortSpec] = []
    static let outputs = [PortSpec("data", .dataset, "the text lines")]
    static let parameters = [
        ParameterSpec("text", .string, default: .string("hello"), "the line to repeat"),
        ParameterSpec("count", .int, default: .int(3), "how many lines", check: ParameterSpec.range(1, 1000)),
        ParameterSpec("seed_file", .path, default: .string(""), "a file whose content is appended"),
    ]
    init() {}
    func run(_ context: StageContext) throws {
        Journal.entries.append(context.stageName)
        let dir = context.output("data")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var text = String(repeating: context.parameters.string("text") + "\n", count: context.parameters.int("count"))
        if let path = context.parameters.optionalString("seed_file") {
            text += try String(contentsOfFile: path, encoding: .utf8)
        }
        try text.write(to: dir.appendingPathComponent("lines.txt"), atomically: true, encoding: .utf8)
    }
}

/// Reads the dataset, writes a "checkpoint" scaled by `factor`; fails on request.
struct TransformStage: Stage {
    static let kind = "transform"
    static let documentation = "Test transform: counts the lines of a dataset."
    static let inputs = [PortSpec("data", .dataset, "lines to count")]
    static let outputs = [PortSpec("model", .checkpoint, path: "model/weights.txt", "the count times factor")]
    static let parameters = [
        ParameterSpec("factor", .double, default: .double(1), "a multiplier"),
        ParameterSpec("fail", .bool, default: .bool(false), "throw instead of writing"),
        ParameterSpec("beta", .strategy(family: "beta"), default: .strategy(StrategyChoice(name: "constant")), "the beta strategy"),
        ParameterSpec("mode", .choice(["fast", "slow"]), default: .string("fast"), "a choice"),
    ]
    init() {}
    func run(_ context: StageContext) throws {
        Journal.entries.append(context.stageName)
        if context.parameters.bool("fail") { throw StageError("asked to fail") }
        let lines = try String(contentsOf: context.input("data").url.appendingPathComponent("lines.txt"), encoding: .utf8)
            .split(separator: "\n").count
        let url = context.output("model")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let beta = context.parameters.strategy("beta")
        try "\(Double(lines) * context.parameters.double("factor")) \(beta)".write(to: url, atomically: true, encoding: .utf8)
    }
}

/// Reads a checkpoint (and optionally a dataset) and writes a report.
struct SinkStage: Stage {
    static let kind = "sink"
    static let documentation = "Test sink: writes a report."
    static let inputs = [PortSpec("model", .checkpoint, "the model"), PortSpec("extra", .dataset, optional: true, "more data")]
    static let outputs = [PortSpec("report", .report, path: "report.txt", "the report")]
    static let parameters: [ParameterSpec] = []
    init() {}
    func run(_ context: StageContext) throws {
        Journal.entries.append(context.stageName)
        let model = try String(contentsOf: context.input("model").url, encoding: .utf8)
        try "report: \(model)".write(to: context.output("report"), atomically: true, encoding: .utf8)
    }
}

/// Counts to `steps`, one step per call, saving progress in its output folder; when
/// `interrupt_at` is reached on a fresh start it cancels the run (a simulated SIGINT), so the next
/// run must resume from the saved step.
struct CounterStage: Stage {
    static let kind = "counter"
    static let documentation = "Test stage with a checkpoint."
    static let inputs = [PortSpec("data", .dataset, "anything")]
    static let outputs = [PortSpec("count", .metrics, path: "count.txt", "the final count")]
    static let parameters = [
        ParameterSpec("steps", .int, default: .int(10), "how far to count"),
        ParameterSpec("interrupt_at", .int, default: .int(0), "cancel at this step on a fresh start (0: never)"),
    ]
    nonisolated(unsafe) static var cancelToken: CancellationToken?
    nonisolated(unsafe) static var stepsExecuted = 0
    nonisolated(unsafe) static var sawResume = false
    init() {}
    func run(_ context: StageContext) throws {
        Journal.entries.append(context.stageName)
        let checkpoint = context.outputDirectory.appendingPathComponent("checkpoint.txt")
        var step = 0
        if context.isResuming, let text = try? String(contentsOf: checkpoint, encoding: .utf8), let saved = Int(text) {
            step = saved
            Self.sawResume = true
        }
        let stop = context.parameters.int("interrupt_at")
        while step < context.parameters.int("steps") {
            step += 1
            Self.stepsExecuted += 1
            try String(step).write(to: checkpoint, atomically: true, encoding: .utf8)
            if !context.isResuming && step == stop { context.cancellation.cancel() }
            try context.checkCancellation()
        }
        try String(step).write(to: context.output("count"), atomically: true, encoding: .utf8)
    }
}

enum TestRegistry {
    static func make() -> StageRegistry {
        let registry = StageRegistry()
        for stage in [SourceStage.self, TransformStage.self, SinkStage.self, CounterStage.self] as [Stage.Type] {
            registry.register(stage)
        }
        registry.register(strategy: StrategyDescriptor(family: "beta", name: "constant", documentation: "fixed beta", parameters: [
            ParameterSpec("value", .double, default: .double(1), "the beta"),
        ]))
        registry.registerStrategySource {
            [StrategyDescriptor(family: "beta", name: "dual-gradient", documentation: "dual gradient", parameters: [
                ParameterSpec("initial", .double, default: .double(10), "beta at the start"),
                ParameterSpec("target", .double, default: .double(0.1), "target KLD", check: ParameterSpec.range(0, nil)),
            ])]
        }
        return registry
    }
}
