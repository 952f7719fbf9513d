import Foundation
import InkwellDataset
import InkwellTestSupport
import XCTest

/// Real MPI jobs of the built `inkwell` tool for the data-parallel tests: `mpirun` as CI runs it
/// (as root, oversubscribed), no mocks.
enum MPIJob {
    /// mpirun from PATH; skips, printing why, when OpenMPI's launcher is not installed.
    static func launcher() throws -> URL {
        if let mpirun = onPath("mpirun") { return mpirun }
        let reason = "skipped: no mpirun on PATH (scripts/setup installs openmpi-bin)"
        print(reason)
        throw XCTSkip(reason)
    }

    /// The executable `name` in a folder of PATH, or nil.
    static func onPath(_ name: String) -> URL? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The options every test job uses: root allowed (CI), more ranks than cores allowed, no core
    /// binding (the machine is shared), shared memory without the single-copy mechanism that
    /// containers often forbid.
    static let options = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                          "--mca", "btl_vader_single_copy_mechanism", "none"]

    /// `mpirun -np ranks PROGRAM arguments...` (the `inkwell` tool unless `program` is given):
    /// exit status and output.
    static func run(ranks: Int, _ arguments: [String], program: URL? = nil) throws -> (status: Int32, output: String) {
        let tool = try program ?? ChildProcess.inkwellTool()
        return try ChildProcess.run(try launcher(), options + ["-np", "\(ranks)", tool.path] + arguments)
    }

    /// Starts `mpirun -np ranks PROGRAM arguments...` (the `inkwell` tool unless `program` is
    /// given) with its output collected in `log`.
    static func start(ranks: Int, _ arguments: [String], log: URL, program: URL? = nil) throws -> Process {
        let tool = try program ?? ChildProcess.inkwellTool()
        let process = Process()
        process.executableURL = try launcher()
        process.arguments = options + ["-np", "\(ranks)", tool.path] + arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The pid of rank `rank` among the processes `launcher` started (its children whose
    /// environment says OMPI_COMM_WORLD_RANK=rank), or nil.
    static func pid(ofRank rank: Int, under launcher: Int32) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == launcher,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    /// A tiny dataset (13 x 9 frames; 40 training frames in 4 videos, 10 test frames) and a
    /// configuration of a tiny model; returns the `inkwell train` arguments for a run in `out`.
    static func tinyTraining(in dir: URL, batch: Int = 5, steps: Int, checkpointEvery: Int = 2)
        throws -> (_ out: URL, _ extra: [String]) -> [String] {
        let data = dir.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.path) {
            try TinyDataset.write(to: data)
        }
        let config = dir.appendingPathComponent("config-\(batch)-\(steps).json")
        try Data("""
            {"model": {"latent": 4, "encoder": [3, 4, 8], "decoder": [8, 8, 4], "discriminator": [3, 4, 8, 8],
             "discriminator_hidden": 8, "feature_map": [3, 4]},
             "batch": \(batch), "steps": \(steps), "eval_every": 1000, "eval_frames": 0, "checkpoint_every": \(checkpointEvery),
             "keep_best": 1, "fixed_latents": 4, "seed": 11}
            """.utf8).write(to: config)
        return { out, extra in ["train", "--data", data.path, "--out", out.path, "--config", config.path, "--threads", "1"] + extra }
    }

    /// `shared` (ingested by several ranks) holds the dataset `single` (one process) holds: the same
    /// videos, splits and frame counts, byte-identical shards, the same rejected inputs.
    static func assertSameDataset(_ shared: URL, _ single: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try DatasetManifest.read(datasetAt: single), b = try DatasetManifest.read(datasetAt: shared)
        XCTAssertEqual(b.videos.map(\.sha256), a.videos.map(\.sha256), file: file, line: line)
        XCTAssertEqual(b.videos.map(\.split), a.videos.map(\.split), file: file, line: line)
        XCTAssertEqual(b.videos.map(\.frames), a.videos.map(\.frames), file: file, line: line)
        XCTAssertEqual(b.shards.map(\.sha256), a.shards.map(\.sha256), "the shards differ", file: file, line: line)
        XCTAssertEqual(b.rejected.map(\.path), a.rejected.map(\.path), file: file, line: line)
    }

    /// metrics.csv's training rows: step -> column -> value.
    static func trainRows(_ run: URL) throws -> [Int: [String: Double]] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [:] }
        var rows: [Int: [String: Double]] = [:]
        for line in lines.dropFirst() where line.first == "train" {
            var row: [String: Double] = [:]
            for (key, value) in zip(header, line) { if let v = Double(value) { row[key] = v } }
            if let step = row["step"] { rows[Int(step)] = row }
        }
        return rows
    }
}
