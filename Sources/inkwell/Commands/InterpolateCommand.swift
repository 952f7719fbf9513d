import ArgumentParser
import Foundation
import Inkwell

/// `inkwell interpolate --model M --data DATASET --from I --to J --steps K --out strip.png`: the
/// decoded straight path between the posterior means of frames I and J of a split, as one strip:
/// frame I, the K decoded points (the first decodes I's mean, the last J's), frame J.
struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Decode the path between two encoded frames of a dataset into a PNG strip.",
        discussion: "Point k of K decodes mu_I + k / (K - 1) * (mu_J - mu_I), where mu is the posterior mean. The strip shows frame I, the K points, then frame J, in cells of the frame size with a 2-pixel gap."
    )

    @Option(help: ModelCommandSupport.modelHelp)
    var model: String

    @Option(help: "The dataset directory (made by `inkwell ingest`).")
    var data: String

    @Option(help: "The split the frame indices count in: test or train.")
    var split = "test"

    @Option(name: .customLong("from"), help: "Index of the first frame in the split.")
    var first: Int

    @Option(name: .customLong("to"), help: "Index of the last frame in the split.")
    var last: Int

    @Option(help: "Points decoded along the path, ends included.")
    var steps = 8

    @Option(help: ArgumentHelp("The PNG strip to write.", valueName: "strip.png"))
    var out: String

    func validate() throws {
        try ModelCommandSupport.requireExisting(model, option: "--model")
        try ModelCommandSupport.requireExisting(data, option: "--data")
        _ = try ModelCommandSupport.split(split)
        guard first >= 0, last >= 0 else { throw ValidationError("--from and --to must not be negative") }
        guard steps >= 2 else { throw ValidationError("--steps \(steps): must be at least 2") }
        try ModelCommandSupport.requireWritableFile(out, option: "--out", suffix: ".png")
    }

    func run() throws {
        try ModelCommandSupport.run("interpolate") {
            let loader = try ModelCommandSupport.openSplit(data, try ModelCommandSupport.split(split))
            for index in [first, last] where index >= loader.frameCount {
                throw ValidationError("frame \(index) is out of range: the \(split) split of \(data) has \(loader.frameCount) frames")
            }
            let loaded = try LoadedModel(URL(fileURLWithPath: model), frame: [loader.height, loader.width])
            let ends = loader.makeBatch(frames: [first, last])
            let mu = Inference.encode(loaded.model, [ends]).mu
            let path = Self.path(from: mu.narrowed(axis: 0, start: 0, length: 1), to: mu.narrowed(axis: 0, start: 1, length: 1), steps: steps)
            let decoded = Inference.decode(loaded.model, path)
            let cells = [pngImage(ends, index: 0)] + (0..<steps).map { pngImage(decoded, index: $0) } + [pngImage(ends, index: 1)]
            let strip = PNGImage.grid(cells, columns: cells.count)
            try strip.write(to: URL(fileURLWithPath: out))
            print("\(out): frames \(first) -> \(last) of the \(split) split in \(steps) steps (\(strip.width)x\(strip.height))")
        }
    }

    /// `steps` points (steps, D) from a to b (each (1, D)), ends included.
    static func path(from a: Tensor, to b: Tensor, steps: Int) -> Tensor {
        let d = a.count
        var values: [Float] = []
        for k in 0..<steps {
            let t = Float(k) / Float(steps - 1)
            values += (0..<d).map { a.pointer[$0] + t * (b.pointer[$0] - a.pointer[$0]) }
        }
        return Tensor(shape: [steps, d], values: values)
    }
}
