import Foundation
import InkwellPipeline
import InkwellReport
import InkwellTraining
import InkwellFiles

/// `export`: what a person looks at after training: the run's HTML report (plots, the fake grid at
/// every evaluation step, reconstructions, metrics table; InkwellReport's `RunReport`) written as
/// a standalone page with its images embedded, and the latest sample grids as PNG files.
///
/// The report is written into this stage's own folder, never into the training run (whose
/// content digest the train stage's cache record covers).
public struct ExportStage: Stage {
    public static let kind = "export"
    public static let version = 3
    public static let documentation = """
        Writes the run's HTML report (plots of losses, beta, KLD against its target, pixel error, \
        latent distances against chi, diversity; fakes at every evaluation; reconstructions; \
        metrics) and copies the latest fake and reconstruction grids (and the final evaluation's \
        samples when bound) into images/.
        """
    public static let inputs = [
        PortSpec("run", .checkpoint, "the training run directory"),
        PortSpec("evaluation", .images, optional: true, "samples of a final evaluation, copied beside the run's"),
        PortSpec("videos", .videos, optional: true, "clips to reconstruct (encode-decode videos)"),
    ]
    public static let outputs = [
        PortSpec("report", .report, path: "report.html", "standalone HTML report"),
        PortSpec("images", .images, path: "images", "PNG grids: latest fakes and reconstructions"),
        PortSpec("reconstructions", .videos, path: "videos", "original | reconstruction MP4s of the first clips (audio copied)"),
    ]
    public static let parameters = [
        ParameterSpec("embed_images", .bool, default: .bool(true), "embed images in the HTML (a standalone file) instead of linking them"),
        ParameterSpec("clips", .int, default: .int(1), "clips of the 'videos' input reconstructed, in name order (0: none)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("clip_seconds", .double, default: .double(0), "seconds of each clip reconstructed (0: all of it)", check: ParameterSpec.range(0, nil)),
        ParameterSpec("scale", .int, default: .int(4), "enlargement of each panel of the reconstruction video", check: ParameterSpec.range(1, 16)),
        ParameterSpec("model", .path, default: .string(""), "the model the videos reconstruct with: a run directory, checkpoint folder or bare .safetensors state dict (default: the run's latest checkpoint)"),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let runURL = try context.input("run").url
        // The videos first, so that the report shows them.
        let videos = try reconstruct(context, run: runURL)
        let run = try RunDirectory(runURL)
        let report = RunReport(run: run, images: context.parameters.bool("embed_images") ? .embed : .link, videos: videos)
        let html = report.html(outputDirectory: context.outputDirectory)
        try AtomicFile.write(Data(html.utf8), to: context.output("report"))
        context.logger.info("report: \(context.output("report").path)")

        let images = context.output("images")
        let fm = FileManager.default
        try fm.createDirectory(at: images, withIntermediateDirectories: true)
        var copied = 0
        for (prefix, folder) in [("run-", RunLayout(runURL).samples), ("final-", context.inputs["evaluation"]?.url)] {
            guard let folder, let names = try? fm.contentsOfDirectory(atPath: folder.path) else { continue }
            // The latest grid of each kind (names carry the zero-padded step, so they sort).
            for kind in ["fakes", "recon"] {
                guard let latest = names.filter({ $0.hasPrefix(kind) && $0.hasSuffix(".png") }).sorted().last else { continue }
                try AtomicFile.write(Data(contentsOf: folder.appendingPathComponent(latest)), to: images.appendingPathComponent(prefix + latest))
                copied += 1
            }
        }
        context.logger.info("copied \(copied) sample grids to \(images.path)")
    }

    /// Encode-decode videos of the first `clips` videos of the `videos` input; returns their files.
    func reconstruct(_ context: StageContext, run: URL) throws -> [URL] {
        let folder = context.output("reconstructions")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let count = context.parameters.int("clips")
        guard count > 0, let videos = context.inputs["videos"]?.url else { return [] }
        let extensions: Set<String> = ["mp4", "mkv", "mov", "webm", "avi", "m4v"]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: videos.path)) ?? [])
            .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        let model = context.parameters.optionalString("model").map { URL(fileURLWithPath: $0) } ?? run
        let reconstruction = try ClipReconstruction(model: model)
        var options = ClipReconstruction.Options()
        options.scale = context.parameters.int("scale")
        if context.parameters.double("clip_seconds") > 0 { options.end = context.parameters.double("clip_seconds") }
        var written: [URL] = []
        for name in names.prefix(count) {
            try context.checkCancellation()
            let output = folder.appendingPathComponent("reconstruction-" + (name as NSString).deletingPathExtension + ".mp4")
            let result = try reconstruction.run(video: videos.appendingPathComponent(name), output: output, options: options) { frames in
                context.progress.update(nil, "\(name): \(frames) frames reconstructed")
            }
            context.logger.info(String(format: "%@: %d frames, mean PSNR %.2f dB, %d audio packets copied, %.1f s", output.lastPathComponent,
                                       result.frames, result.meanPSNR, result.audioPackets, result.seconds))
            written.append(output)
        }
        return written
    }
}
