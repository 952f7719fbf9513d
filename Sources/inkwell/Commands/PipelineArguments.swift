import ArgumentParser
import Foundation
import Inkwell

/// The pipeline file and its overrides, as `inkwell run`, `validate` and `graph` take them.
struct PipelineArguments: ParsableArguments {
    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(name: .customLong("set"), help: "Override a parameter or variable: stage.param=value, stage.strategy.param=value or var=value (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: pipeline) else {
            throw ValidationError("\(pipeline): no such pipeline file")
        }
        for o in overrides where !o.contains("=") {
            throw ValidationError("--set \(o): expected KEY=VALUE (e.g. train.steps=500)")
        }
    }

    /// The pipeline, validated. An invalid file prints every problem as FILE:LINE:COLUMN and
    /// exits 65.
    func load() throws -> Pipeline {
        do {
            return try PipelineSession.load(pipeline, overrides: overrides)
        } catch let error as PipelineValidationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(65)
        }
    }
}
