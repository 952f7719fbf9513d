import Foundation
import InkwellPipeline
import InkwellReport

/// `compare`: one report overlaying the curves of several training runs (the ablation
/// pipelines' comparison), InkwellReport's `ComparisonReport`. Runs are bound to the inputs `a`
/// to `h` (at least two); each is labelled with the name of the stage that produced it.
public struct CompareStage: Stage {
    public static let kind = "compare"
    public static let version = 1
    static let ports = ["a", "b", "c", "d", "e", "f", "g", "h"]
    public static let documentation = """
        Overlays the curves (losses, beta, KLD against target, pixel error, latent distances, \
        diversity) of two to eight training runs in one HTML report, each labelled with its stage.
        """
    public static let inputs = ports.enumerated().map { i, name in
        PortSpec(name, .checkpoint, optional: i >= 2, "a training run directory (train.run)")
    }
    public static let outputs = [PortSpec("report", .report, path: "compare.html", "the comparison report")]
    public static let parameters = [
        ParameterSpec("embed_images", .bool, default: .bool(true), "embed images in the HTML instead of linking them"),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        // Each run is shown under its stage's name: link runs/<stage> to it and read it there.
        let links = context.outputDirectory.appendingPathComponent("runs")
        let fm = FileManager.default
        try? fm.removeItem(at: links)
        try fm.createDirectory(at: links, withIntermediateDirectories: true)
        var runs: [URL] = []
        for port in Self.ports {
            guard let run = context.inputs[port]?.url else { continue }
            var label = run.lastPathComponent == "run" ? run.deletingLastPathComponent().lastPathComponent : run.lastPathComponent
            while runs.contains(where: { $0.lastPathComponent == label }) { label += "-\(port)" }
            let link = links.appendingPathComponent(label)
            try fm.createSymbolicLink(at: link, withDestinationURL: run)
            runs.append(link)
        }
        let output = try ComparisonReport.write(runDirectories: runs, to: context.output("report"),
                                                images: context.parameters.bool("embed_images") ? .embed : .link)
        context.logger.info("compared \(runs.map(\.lastPathComponent).joined(separator: ", ")): \(output.path)")
    }
}
