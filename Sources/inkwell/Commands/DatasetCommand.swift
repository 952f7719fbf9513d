import ArgumentParser
import Foundation
import Inkwell

/// `inkwell dataset info|verify|export DATASET`: look at, check and sample a frame dataset.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Inspect, verify and export frames from a dataset made by `inkwell ingest`.",
        subcommands: [DatasetInfoCommand.self, DatasetVerifyCommand.self, DatasetExportCommand.self]
    )
}

/// Opens a dataset or exits 1 with a one-line reason.
private func openDataset(_ path: String) throws -> Dataset {
    do { return try Dataset(url: URL(fileURLWithPath: path)) } catch {
        DatasetStderr.print("inkwell: error: \(error)")
        throw ExitCode(1)
    }
}

/// `inkwell dataset info DATASET`: sizes, parameters, splits, videos, rejected inputs, preprocessing.
struct DatasetInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a dataset.")

    @Argument(help: "The dataset folder.")
    var dataset: String

    @Flag(help: "List every video.")
    var videos = false

    @Flag(help: "Print the manifest as JSON.")
    var json = false

    func run() throws {
        let ds = try openDataset(dataset)
        let m = ds.manifest
        if json {
            FileHandle.standardOutput.write(try m.encoded())
            return
        }
        let p = m.parameters
        let bytes = m.shards.reduce(0) { $0 + $1.bytes }
        var mode = p.selection == "fps" ? "\(p.fps ?? 0) frames/s" : (p.selection == "all" ? "all frames" : "key frames")
        if let cap = p.maxFramesPerVideo { mode += ", at most \(cap) per video" }
        print("dataset:    \(ds.url.path)")
        print("frames:     \(m.frameCount) of \(m.width)x\(m.height) RGB uint8 in \(m.shards.count) shards (\(formatBytes(bytes)))")
        print("taken:      \(mode); scaler \(p.scaler); aspect \(p.aspect)")
        print("split:      by video, test fraction \(p.testFraction), seed \(p.seed)")
        for split in Split.allCases {
            let videos = m.videoCount(split)
            print("  \(split.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))    \(videos) videos, \(m.frameCount(split)) frames, \(m.shards(in: split).count) shards")
        }
        let decodeErrors = m.videos.reduce(0) { $0 + $1.decodeErrors }
        let duration = m.videos.reduce(0) { $0 + $1.duration }
        print("videos:     \(m.videos.count), \(String(format: "%.1f", duration / 60)) minutes, \(decodeErrors) decode errors")
        if videos {
            for v in m.videos {
                print("  \(v.split.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(String(format: "%5d", v.frames)) frames  \(v.codec) \(v.width)x\(v.height) \(String(format: "%.1f", v.duration)) s  \(v.path)\(v.decodeErrors > 0 ? "  (\(v.decodeErrors) decode errors)" : "")")
            }
        }
        print("rejected:   \(m.rejected.count)")
        for r in m.rejected { print("  \(r)") }
        for record in m.preprocess {
            let steps = record.steps.map { s in s["name", default: "?"] + (s["threshold"].map { " < \($0)" } ?? "") }.joined(separator: ", ")
            let dropped = record.dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let added = record.added.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("preprocess: from \(record.source): \(steps); \(record.framesIn) -> \(record.framesOut) frames; dropped \(dropped); added \(added)")
        }
        print("written:    \(m.created) (updated \(m.updated))")
    }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}

/// `inkwell dataset verify DATASET`: checks every shard's size, header and SHA-256; exits 1
/// naming each bad file.
struct DatasetVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every shard against the manifest's SHA-256 digests (exit 1 naming bad shards)."
    )

    @Argument(help: "The dataset folder.")
    var dataset: String

    func run() throws {
        let ds = try openDataset(dataset)
        let started = Date()
        let report = ds.verify()
        let seconds = Date().timeIntervalSince(started)
        if report.isValid {
            print("ok: \(report.shardsChecked) shards, \(ds.manifest.frameCount) frames, \(formatBytes(report.bytesChecked)) verified in \(String(format: "%.2f", seconds)) s")
            return
        }
        for problem in report.problems {
            DatasetStderr.print("inkwell: corrupt: \(ds.url.appendingPathComponent(problem.file).path): \(problem.reason)")
        }
        let names = Set(report.problems.map(\.file))
        DatasetStderr.print("inkwell: \(names.count) of \(report.shardsChecked * 2) files failed verification (\(report.shardsChecked) shards and their sidecars)")
        throw ExitCode(1)
    }
}

/// `inkwell dataset export DATASET --count N --out DIR`: N frames spread evenly over the dataset as
/// PNG files, plus `contact-sheet.png` with all of them.
struct DatasetExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write N frames as PNG files and one contact sheet."
    )

    @Argument(help: "The dataset folder.")
    var dataset: String

    @Option(help: "Frames to export, spread evenly over the split(s).")
    var count = 32

    @Option(name: .long, help: "Output folder (created).")
    var out: String

    @Option(help: "train, test or all.")
    var split = "all"

    @Option(help: "Contact sheet columns.")
    var columns = 8

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard columns > 0 else { throw ValidationError("--columns must be positive, got \(columns)") }
        guard split == "all" || Split(rawValue: split) != nil else {
            throw ValidationError("--split must be train, test or all, got '\(split)'")
        }
    }

    func run() throws {
        let ds = try openDataset(dataset)
        let outURL = URL(fileURLWithPath: out)
        let splits = split == "all" ? Split.allCases : [Split(rawValue: split)!]
        // (split, shard, index in shard, index in split) of every frame, in dataset order.
        var frames: [(Split, ShardRecord, Int, Int)] = []
        for s in splits {
            var n = 0
            for shard in ds.shards(in: s) {
                for i in 0..<shard.frames { frames.append((s, shard, i, n)); n += 1 }
            }
        }
        guard !frames.isEmpty else {
            DatasetStderr.print("inkwell: error: \(ds.url.path): no frames in \(split)")
            throw ExitCode(1)
        }
        let n = min(count, frames.count)
        let picks = (0..<n).map { frames[$0 * frames.count / n] }
        do {
            try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
            var mapped: [String: MappedShard] = [:]
            var images: [PNGImage] = []
            for (s, shard, i, index) in picks {
                if mapped[shard.file] == nil { mapped[shard.file] = try ds.openShard(shard, verify: true) }
                let image = PNGImage(width: ds.width, height: ds.height, pixels: Array(mapped[shard.file]!.frame(i)))
                try image.write(to: outURL.appendingPathComponent("\(s.rawValue)-\(String(format: "%06d", index)).png"))
                images.append(image)
            }
            let sheet = PNGImage.grid(images, columns: columns)
            try sheet.write(to: outURL.appendingPathComponent("contact-sheet.png"))
            print("wrote \(images.count) frames and contact-sheet.png (\(sheet.width)x\(sheet.height)) to \(outURL.path)")
        } catch {
            DatasetStderr.print("inkwell: error: \(error)")
            throw ExitCode(1)
        }
    }
}
