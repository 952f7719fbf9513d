import ArgumentParser
import Foundation
import Inkwell

/// `inkwell decode --model M --latents Z.npy --out DIR`: the images of an (N, latent) float32
/// latent matrix (e.g. `inkwell encode`'s posterior means), as DIR/image-00000.png, ... and
/// DIR/contact-sheet.png.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode an (N, latent) float32 .npy of latents into PNG images and a contact sheet."
    )

    @Option(help: ModelCommandSupport.modelHelp)
    var model: String

    @Option(help: ArgumentHelp("An (N, latent) float32 .npy of latents.", valueName: "z.npy"))
    var latents: String

    @Option(help: "The folder to write the images into.")
    var out: String

    func validate() throws {
        try ModelCommandSupport.requireExisting(model, option: "--model")
        try ModelCommandSupport.requireExisting(latents, option: "--latents")
        try ModelCommandSupport.requireWritableFolder(out, option: "--out")
    }

    func run() throws {
        try ModelCommandSupport.run("decode") {
            let loaded = try LoadedModel(URL(fileURLWithPath: model))
            let z = try Inference.readLatents(URL(fileURLWithPath: latents), latent: loaded.widths.latent)
            let folder = URL(fileURLWithPath: out)
            let sheet = try Inference.writeImages(Inference.decode(loaded.model, z), to: folder, prefix: "image")
            print("\(folder.path): \(z.shape[0]) images, contact-sheet.png (\(sheet.width)x\(sheet.height))")
        }
    }
}
