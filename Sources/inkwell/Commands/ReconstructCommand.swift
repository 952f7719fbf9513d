import ArgumentParser
import Foundation
import Inkwell

/// `inkwell reconstruct --model MODEL --video IN --out OUT.mp4`: the encode-decode video of a
/// clip, original and reconstruction side by side, with the original audio copied. The model sees
/// the frames exactly as `inkwell ingest` would make them, whatever `--scale`; the PSNR printed is
/// on those frames.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Encode and decode every frame of a clip with a trained model; write original | reconstruction as H.264 MP4.",
        discussion: "The model is a run directory (its latest checkpoint), a checkpoint folder (RUN/checkpoints/best-1) or a bare .safetensors state dict with the reference PyTorch names (widths inferred from the shapes). It is loaded and checked before decoding starts. Frames reach the model as ingest makes them (area filter, stretched to the model's frame size); --scale only enlarges what is shown. The input's first audio stream is copied; a clip without audio gives a video without audio."
    )

    @Option(help: ArgumentHelp("A run directory, a checkpoint folder or a .safetensors state dict.", valueName: "model"))
    var model: String

    @Option(help: ArgumentHelp("The input clip.", valueName: "video"))
    var video: String

    @Option(help: ArgumentHelp("The MP4 file to write.", valueName: "out.mp4"))
    var out: String

    @Option(help: "How many times each panel enlarges the model's frame (display only).")
    var scale: Int = 4

    @Option(help: "Frames run through the model at once.")
    var batch: Int = 16

    @Option(help: "Start this many seconds into the clip (the output then has no audio).")
    var start: Double?

    @Option(help: "Stop this many seconds into the clip.")
    var end: Double?

    @Option(help: "Reconstruct at most this many frames.")
    var maxFrames: Int?

    @Option(help: "H.264 CRF: lower is better and larger.")
    var quality: Int = 18

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("--model \(model): no such file or folder") }
        guard FileManager.default.fileExists(atPath: video) else { throw ValidationError("\(video): no such video") }
        guard out.lowercased().hasSuffix(".mp4") else { throw ValidationError("--out \(out): the output must be an .mp4 file") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale \(scale): must be 1 to 16") }
        guard batch >= 1 else { throw ValidationError("--batch \(batch): must be at least 1") }
        guard (0...51).contains(quality) else { throw ValidationError("--quality \(quality): H.264 CRF must be 0 to 51") }
        if let s = start, s < 0 { throw ValidationError("--start \(s): must not be negative") }
        if let s = start, let e = end, e <= s { throw ValidationError("--end \(e) must be after --start \(s)") }
        if let n = maxFrames, n < 1 { throw ValidationError("--max-frames \(n): must be at least 1") }
    }

    func run() throws {
        do {
            let reconstruction = try ClipReconstruction(model: URL(fileURLWithPath: model))
            var options = ClipReconstruction.Options()
            options.scale = scale
            options.batch = batch
            options.start = start
            options.end = end
            options.maxFrames = maxFrames
            options.quality = quality
            let began = Date()
            var lastReport = Date.distantPast
            let result = try reconstruction.run(video: URL(fileURLWithPath: video), output: URL(fileURLWithPath: out),
                                                options: options) { frames in
                if Date().timeIntervalSince(lastReport) >= 5 {
                    lastReport = Date()
                    let rate = Double(frames) / max(1e-9, Date().timeIntervalSince(began))
                    FileHandle.standardError.write(Data("reconstruct: \(frames) frames, \(String(format: "%.1f", rate)) frames/s\n".utf8))
                }
            }
            print("\(result.output.path): \(result.frames) frames \(result.width)x\(result.height) at \(NumberFormat.compact(result.frameRate)) fps, "
                + (result.audioPackets > 0 ? "audio copied (\(result.audioPackets) packets)" : "no audio (\(result.audioNote ?? "none copied"))")
                + ", \(DurationFormat.words(result.seconds))")
            print("PSNR \(String(format: "%.4f", result.meanPSNR)) dB (mean over \(result.frames) frames of \(reconstruction.frameWidth) x \(reconstruction.frameHeight), as ingest makes them)")
        } catch let error as ReportError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(66)
        } catch let error as VideoError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(66)
        }
    }
}
