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

    @OptionGroup var pipelineFile: PipelineArguments

    func run() throws {
        let loaded = try pipelineFile.load()
        print("\(pipelineFile.pipeline): ok, pipeline \(loaded.name) with \(loaded.stages.count) stages: \(loaded.stages.map(\.name).joined(separator: " -> "))")
    }
}
