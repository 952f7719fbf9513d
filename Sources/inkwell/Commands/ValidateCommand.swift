import ArgumentParser
import Foundation
import Inkwell

/// `inkwell validate PIPELINE`: checks a pipeline file without running anything.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file: stage kinds, parameters, strategies, inputs, cycles.",
        discussion: "Prints every problem as FILE:LINE:COLUMN: error: MESSAGE and exits 65 when there is any."
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(name: .customLong("set"), help: "Override a parameter or variable, as for `inkwell run` (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: pipeline) else {
            throw ValidationError("\(pipeline): no such pipeline file")
        }
    }

    func run() throws {
        do {
            let loaded = try PipelineSession.load(pipeline, overrides: overrides)
            print("\(pipeline): ok, pipeline \(loaded.name) with \(loaded.stages.count) stages: \(loaded.stages.map(\.name).joined(separator: " -> "))")
        } catch let error as PipelineValidationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(65)
        }
    }
}
