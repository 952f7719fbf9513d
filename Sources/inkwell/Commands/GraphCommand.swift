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

    @OptionGroup var pipelineFile: PipelineArguments

    @Option(help: "text or dot.")
    var format: Format = .text

    func run() throws {
        let loaded = try pipelineFile.load()
        print(format == .dot ? PipelineGraph.dot(loaded) : PipelineGraph.text(loaded), terminator: "")
    }
}
