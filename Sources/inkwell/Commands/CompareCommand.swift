import ArgumentParser
import Foundation
import Inkwell

/// `inkwell compare RUN... --out FILE`: one page overlaying the curves of several runs.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Overlay the curves of several runs in one HTML page (the ablation comparison).",
        discussion: "Each run is labelled by its folder name and its KLD and beta strategies. The page holds a table of the runs' settings and final figures, one chart per quantity with a line per run, and each run's last fake grid."
    )

    @Argument(help: ArgumentHelp("Run directories to compare.", valueName: "run"))
    var runPaths: [String]

    @Option(help: "The HTML file to write.")
    var out: String = "compare.html"

    @Option(help: "Sample images: embed, link (relative to --out), auto (embed up to 24 MiB).")
    var images: ImagesOption = .auto

    func validate() throws {
        guard !runPaths.isEmpty else { throw ValidationError("give at least one run directory") }
        for path in runPaths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(path): no such run directory")
            }
        }
        guard !out.hasSuffix("/") else { throw ValidationError("--out \(out): give a file name, not a folder") }
    }

    func run() throws {
        let output = try ComparisonReport.write(runDirectories: runPaths.map { URL(fileURLWithPath: $0) },
                                                to: URL(fileURLWithPath: out), images: images.mode)
        print("\(output.path): \(runPaths.count) runs compared")
    }
}
