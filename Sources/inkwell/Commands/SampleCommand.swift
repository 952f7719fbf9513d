import ArgumentParser
import Foundation
import Inkwell

/// `inkwell sample --model M --count N --out DIR [--seed S | --latents Z.npy]`: fakes decoded from
/// latents, as DIR/sample-00000.png, ... and DIR/contact-sheet.png, with the latents used in
/// DIR/latents.npy ((N, latent) float32).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Decode latents into fake images: PNG files and a contact sheet.",
        discussion: "Without --latents the latents are the (count, latent) standard normal matrix of Inkwell's generator seeded with --seed (docs/MODELS.md): seed 0 gives training's fixed latents. --latents takes an (N, latent) float32 .npy, so another tool's latents drive the same decoder; --count then takes its first rows."
    )

    @Option(help: ModelCommandSupport.modelHelp)
    var model: String

    @Option(help: "Images to make (default 32, or every row of --latents).")
    var count: Int?

    @Option(help: "The folder to write the images into.")
    var out: String

    @Option(help: "Seed of the drawn latents (default 0: training's fixed latents).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("An (N, latent) float32 .npy of latents to decode.", valueName: "z.npy"))
    var latents: String?

    func validate() throws {
        try ModelCommandSupport.requireExisting(model, option: "--model")
        if seed != nil && latents != nil { throw ValidationError("give --seed or --latents, not both") }
        if let latents { try ModelCommandSupport.requireExisting(latents, option: "--latents") }
        if let count, count < 1 { throw ValidationError("--count \(count): must be at least 1") }
        try ModelCommandSupport.requireWritableFolder(out, option: "--out")
    }

    func run() throws {
        try ModelCommandSupport.run("sample") {
            let loaded = try LoadedModel(URL(fileURLWithPath: model))
            let z = try chosenLatents(latent: loaded.widths.latent)
            let folder = URL(fileURLWithPath: out)
            let sheet = try Inference.writeSamples(loaded.model, latents: z, to: folder)
            print("\(folder.path): \(z.shape[0]) samples, contact-sheet.png (\(sheet.width)x\(sheet.height)), latents.npy")
        }
    }

    /// The latents: the file's first `count` rows, or `count` rows drawn with `seed`.
    func chosenLatents(latent: Int) throws -> Tensor {
        guard let latents else { return Inference.drawnLatents(count: count ?? 32, latent: latent, seed: seed ?? 0) }
        let z = try Inference.readLatents(URL(fileURLWithPath: latents), latent: latent)
        guard let count else { return z }
        guard count <= z.shape[0] else { throw ValidationError("--count \(count): \(latents) has only \(z.shape[0]) rows") }
        return z.narrowed(axis: 0, start: 0, length: count)
    }
}
