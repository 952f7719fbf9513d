import ArgumentParser
import Foundation
import Inkwell

/// `inkwell graph PIPELINE`: prints the stage graph as text or Graphviz DOT.
struct GraphCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, dot
    }

    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a pipeline's stage graph (text, or Graphviz DOT: `inkwell graph P --format dot | dot -Tsvg`)."
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "text or dot.")
    var format: Format = .text

    @Option(name: .customLong("set"), help: "Override a parameter or variable (repeatable).")
    var overrides: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: pipeline) else {
            throw ValidationError("\(pipeline): no such pipeline file")
        }
    }

    func run() throws {
        do {
            let loaded = try PipelineSession.load(pipeline, overrides: overrides)
            print(format == .dot ? PipelineGraph.dot(loaded) : PipelineGraph.text(loaded), terminator: "")
        } catch let error as PipelineValidationError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(65)
        }
    }
}
