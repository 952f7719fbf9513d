import Foundation
import InkwellDataset
import InkwellPipeline

/// `preprocess`: filters a dataset's frames into a new dataset: drops near-black frames (loading
/// screens), near-uniform frames (transition screens) and near-duplicates of the previous kept
/// frame, and optionally adds horizontally mirrored copies. Wraps `Preprocess` (InkwellDataset);
/// the manifest's `preprocess` list records what was dropped per reason.
public struct PreprocessStage: Stage {
    public static let kind = "preprocess"
    public static let version = 1
    public static let documentation = """
        Drops near-black, near-uniform and near-duplicate frames, optionally adds mirrored copies, \
        and writes a new dataset whose manifest counts what was dropped. Thresholds are on the \
        0-255 scale; 0 turns a filter off.
        """
    public static let inputs = [PortSpec("data", .dataset, "the dataset to filter")]
    public static let outputs = [PortSpec("dataset", .dataset, "the filtered dataset")]
    public static let parameters = [
        ParameterSpec("dark", .double, default: .double(12), "drop frames whose mean channel value is below this (0: off)", check: ParameterSpec.range(0, 255)),
        ParameterSpec("uniform", .double, default: .double(4), "drop frames whose luma standard deviation is below this (0: off)", check: ParameterSpec.range(0, 255)),
        ParameterSpec("duplicates", .double, default: .double(2), "drop a frame whose mean absolute difference from the previous kept frame is below this (0: off)",
                      check: ParameterSpec.range(0, 255)),
        ParameterSpec("flip", .bool, default: .bool(false), "add a horizontally mirrored copy of every kept training frame (the test split is not augmented)"),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let p = context.parameters
        func threshold(_ name: String) -> Double? { p.double(name) > 0 ? p.double(name) : nil }
        let options = PreprocessOptions(darkThreshold: threshold("dark"), uniformThreshold: threshold("uniform"),
                                        duplicateThreshold: threshold("duplicates"), flip: p.bool("flip"))
        let source = try context.input("data").url
        context.progress.update(nil, "filtering \(source.lastPathComponent)")
        let summary = try Preprocess.run(source: source, output: context.output("dataset"), options: options)
        let r = summary.record
        let after = summary.manifest.frameCount
        let dropped = r.dropped.keys.sorted().map { "\($0) \(r.dropped[$0]!)" }.joined(separator: ", ")
        let added = r.added.keys.sorted().map { "\($0) \(r.added[$0]!)" }.joined(separator: ", ")
        context.logger.info("\(r.framesIn) frames in, \(r.framesOut) out (\(summary.manifest.frameCount(.train)) train, \(summary.manifest.frameCount(.test)) test); dropped: \(dropped); added: \(added)")
        guard after > 0 else { throw StageError("every frame was dropped; lower the thresholds (dark \(p.double("dark")), uniform \(p.double("uniform")), duplicates \(p.double("duplicates")))") }
    }
}
