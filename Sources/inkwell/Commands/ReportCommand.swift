import ArgumentParser
import Foundation
import Inkwell

/// How the `report` and `compare` commands refer to sample images.
enum ImagesOption: String, ExpressibleByArgument, CaseIterable {
    case auto, embed, link

    var mode: ImageMode {
        switch self {
        case .auto: return .automatic
        case .embed: return .embed
        case .link: return .link
        }
    }
}

/// `inkwell report RUN`: (re)builds RUN/report.html from what the run directory holds.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Build RUN/report.html: parameters, timings, plots, samples at every evaluation, checkpoints, metrics.",
        discussion: "Reads config.json, metrics.csv, evaluations/*.json, samples/*.png and checkpoints/ of a run directory. Missing or unreadable pieces are named in the report where they would be shown; the rest is built. The file is written under a temporary name and renamed into place."
    )

    @Argument(help: ArgumentHelp("The run directory (holds metrics.csv, config.json, evaluations/, samples/).", valueName: "run"))
    var runPath: String

    @Option(help: "Sample images: embed (the page stands alone), link (relative links), auto (embed up to 24 MiB).")
    var images: ImagesOption = .auto

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runPath, isDirectory: &isDirectory) else {
            throw ValidationError("\(runPath): no such run directory")
        }
        guard isDirectory.boolValue else { throw ValidationError("\(runPath): not a directory") }
    }

    func run() throws {
        let runDirectory = try RunDirectory(URL(fileURLWithPath: runPath))
        let output = try RunReport(run: runDirectory, images: images.mode).write()
        let problems = [runDirectory.configProblem, runDirectory.metricsProblem].compactMap { $0 } + runDirectory.evaluationProblems
        for problem in problems { FileHandle.standardError.write(Data("warning: \(runDirectory.url.path): \(problem)\n".utf8)) }
        print("\(output.path): \(runDirectory.evaluations.count) evaluations, \(runDirectory.metrics?.rowCount ?? 0) metrics rows")
    }
}
