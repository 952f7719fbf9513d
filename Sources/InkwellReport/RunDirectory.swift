import Foundation

/// Everything a run directory holds that the report shows (layout in notes/contracts.md):
/// `config.json`, `metrics.csv`, `evaluations/step-*.json`, `samples/*.png`, `checkpoints/`,
/// videos, and optional stage timings.
///
/// Loading never fails because a piece is missing or broken: each piece is nil or empty and the
/// matching `...Problem(s)` says why, in one line naming the file, so the report can say so where
/// that piece would be shown. Only a run directory that does not exist is an error.
public struct RunDirectory: Sendable {
    /// The run directory (absolute, standardised).
    public let url: URL
    /// The folder name, used as the run's label.
    public var name: String { url.lastPathComponent }

    public let config: JSONValue?
    public let configProblem: String?

    public let metrics: MetricsTable?
    /// Why there is no metrics table (missing file, unreadable, empty), or nil.
    public let metricsProblem: String?

    /// Evaluations sorted by step; an unreadable file is left out and named in `evaluationProblems`.
    public let evaluations: [EvaluationRecord]
    public let evaluationProblems: [String]

    /// Sample images by kind (`fakes`, `recon`, ...) and step, from `samples/<kind>-step-<N>.png`.
    public let sampleImages: [String: [Int: String]]

    public let checkpoints: [Checkpoint]

    /// Run-relative paths of `.mp4` files in the run (its top level, `samples/`, `videos/`, `export/`).
    public let videos: [String]

    /// Stage timings: from `timings.json` (`{"stage": seconds}` or `{"stage": {"seconds": s}}`), in
    /// name order, then from the completion records (`.inkwell/<stage>/record.json`) of the
    /// pipeline whose work folder holds the run, in the order the stages started.
    public let stageTimings: [(name: String, seconds: Double)]
    public let timingsProblem: String?

    /// One checkpoint folder under `checkpoints/`.
    public struct Checkpoint: Sendable {
        /// Folder name: `latest`, `best-1`, ...
        public var name: String
        /// Run-relative path of the folder.
        public var path: String
        /// (run-relative path, size in bytes) of its files, sorted by name.
        public var files: [(path: String, bytes: Int64)]
        /// Its `state.json`, when readable.
        public var state: JSONValue?
    }

    /// Loads the run directory at `url`. Throws only when it does not exist or is not a directory.
    public init(_ url: URL) throws {
        let url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ReportError.missing(url.path, reason: "run directory does not exist")
        }
        guard isDirectory.boolValue else { throw ReportError.missing(url.path, reason: "not a directory") }
        self.url = url
        let fm = FileManager.default

        // config.json
        let configURL = url.appendingPathComponent("config.json")
        if !fm.fileExists(atPath: configURL.path) {
            (config, configProblem) = (nil, "config.json is missing")
        } else {
            do {
                let json = try JSONValue.read(configURL)
                if json.object == nil {
                    (config, configProblem) = (nil, "config.json: not a JSON object")
                } else {
                    (config, configProblem) = (json, nil)
                }
            } catch {
                (config, configProblem) = (nil, RunDirectory.relative("\(error)", to: url))
            }
        }

        // metrics.csv
        let metricsURL = url.appendingPathComponent("metrics.csv")
        if !fm.fileExists(atPath: metricsURL.path) {
            (metrics, metricsProblem) = (nil, "metrics.csv is missing (no training steps recorded yet)")
        } else {
            do {
                let table = try MetricsTable(contentsOf: metricsURL)
                (metrics, metricsProblem) = (table, table.rowCount == 0 ? "metrics.csv has a header but no rows yet" : nil)
            } catch {
                (metrics, metricsProblem) = (nil, RunDirectory.relative("\(error)", to: url))
            }
        }

        // evaluations/*.json
        var evaluations: [EvaluationRecord] = []
        var evaluationProblems: [String] = []
        let evaluationsURL = url.appendingPathComponent("evaluations")
        if let names = try? fm.contentsOfDirectory(atPath: evaluationsURL.path) {
            for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
                do {
                    evaluations.append(try EvaluationRecord(contentsOf: evaluationsURL.appendingPathComponent(name)))
                } catch {
                    evaluationProblems.append(RunDirectory.relative("\(error)", to: url))
                }
            }
        }
        evaluations.sort { $0.step < $1.step }
        self.evaluations = evaluations
        self.evaluationProblems = evaluationProblems

        // samples/<kind>-step-<N>.png
        var samples: [String: [Int: String]] = [:]
        if let names = try? fm.contentsOfDirectory(atPath: url.appendingPathComponent("samples").path) {
            for name in names where name.hasSuffix(".png") {
                let stem = name.dropLast(4)
                guard let range = stem.range(of: "-step-"), let step = Int(stem[range.upperBound...]) else { continue }
                samples[String(stem[..<range.lowerBound]), default: [:]][step] = "samples/\(name)"
            }
        }
        self.sampleImages = samples

        // checkpoints/
        var checkpoints: [Checkpoint] = []
        let checkpointsURL = url.appendingPathComponent("checkpoints")
        if let names = try? fm.contentsOfDirectory(atPath: checkpointsURL.path) {
            for name in names.sorted() where !name.hasPrefix(".") {
                let folder = checkpointsURL.appendingPathComponent(name)
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else { continue }
                let files = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted().filter { !$0.hasPrefix(".") }
                    .map { file -> (path: String, bytes: Int64) in
                        let size = (try? fm.attributesOfItem(atPath: folder.appendingPathComponent(file).path)[.size] as? NSNumber)??.int64Value ?? 0
                        return ("checkpoints/\(name)/\(file)", size)
                    }
                let state = try? JSONValue.read(folder.appendingPathComponent("state.json"))
                checkpoints.append(Checkpoint(name: name, path: "checkpoints/\(name)", files: files, state: state))
            }
        }
        // latest first, then best-1, best-2, ... in numeric order, then the rest.
        func rank(_ c: Checkpoint) -> (Int, Int, String) {
            if c.name == "latest" { return (0, 0, c.name) }
            if c.name.hasPrefix("best-"), let k = Int(c.name.dropFirst(5)) { return (1, k, c.name) }
            return (2, 0, c.name)
        }
        self.checkpoints = checkpoints.sorted { rank($0) < rank($1) }

        // videos
        var videos: [String] = []
        for folder in ["", "samples", "videos", "export"] {
            let dir = folder.isEmpty ? url : url.appendingPathComponent(folder)
            for name in ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
            where name.lowercased().hasSuffix(".mp4") && !name.hasPrefix(".") {
                videos.append(folder.isEmpty ? name : "\(folder)/\(name)")
            }
        }
        self.videos = videos

        // timings.json
        let timingsURL = url.appendingPathComponent("timings.json")
        var timings: [(name: String, seconds: Double)] = []
        var timingsProblem: String? = nil
        if fm.fileExists(atPath: timingsURL.path) {
            do {
                let json = try JSONValue.read(timingsURL)
                if let members = json.object {
                    for key in members.keys.sorted() {
                        if let s = members[key]?.double ?? members[key]?["seconds"]?.double { timings.append((key, s)) }
                    }
                } else {
                    timingsProblem = "timings.json: not a JSON object"
                }
            } catch {
                timingsProblem = RunDirectory.relative("\(error)", to: url)
            }
        }
        // Pipeline stage records: WORKDIR/.inkwell/<stage>/record.json of the pipeline that made
        // this run (the nearest ancestor folder holding .inkwell/).
        if let records = RunDirectory.pipelineRecords(above: url) {
            let known = Set(timings.map(\.name))
            timings += records.filter { !known.contains($0.name) }
        }
        self.stageTimings = timings
        self.timingsProblem = timingsProblem
    }

    /// The run-relative path of a file inside the run (`samples/x.png`), or its absolute path.
    public func relativePath(of file: URL) -> String {
        let base = url.path.hasSuffix("/") ? url.path : url.path + "/"
        let path = file.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    /// A file of the run by run-relative path.
    public func file(_ relativePath: String) -> URL {
        relativePath.hasPrefix("/") ? URL(fileURLWithPath: relativePath) : url.appendingPathComponent(relativePath)
    }

    /// Whether a run-relative file exists.
    public func exists(_ relativePath: String) -> Bool {
        FileManager.default.fileExists(atPath: file(relativePath).path)
    }

    /// The configured name of the KLD strategy (`kld.name`, or `kld` when it is a string).
    public var kldName: String? { RunDirectory.strategyName(config?["kld"]) }
    /// The configured name of the beta strategy.
    public var betaName: String? { RunDirectory.strategyName(config?["beta"]) }
    /// The KLD target of the beta strategy (`beta.target`), or the last evaluation's `kld_target`.
    public var kldTarget: Double? {
        config?.value(at: "beta.target")?.double ?? evaluations.last(where: { $0.kldTarget != nil })?.kldTarget
    }

    /// (stage, seconds) of every completed stage of the pipeline work folder at or up to four
    /// levels above `run`, ordered by start time; nil when there is none.
    static func pipelineRecords(above run: URL) -> [(name: String, seconds: Double)]? {
        let fm = FileManager.default
        var folder = run
        for _ in 0..<5 {
            let metadata = folder.appendingPathComponent(".inkwell")
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: metadata.path, isDirectory: &isDirectory), isDirectory.boolValue {
                var records: [(name: String, seconds: Double, started: String)] = []
                for stage in ((try? fm.contentsOfDirectory(atPath: metadata.path)) ?? []).sorted() {
                    guard let record = try? JSONValue.read(metadata.appendingPathComponent(stage).appendingPathComponent("record.json")),
                          let seconds = record["seconds"]?.double else { continue }
                    records.append((record["stage"]?.string ?? stage, seconds, record["started"]?.string ?? ""))
                }
                return records.sorted { $0.started < $1.started }.map { ($0.name, $0.seconds) }
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return nil
    }

    static func strategyName(_ value: JSONValue?) -> String? {
        value?.string ?? value?["name"]?.string
    }

    /// A short label: folder name and key configuration, e.g.
    /// `run-a (kld batch, beta dual-gradient, target 0.1)`.
    public var label: String { label(named: name) }

    /// The label with another name in place of the folder name.
    public func label(named name: String) -> String {
        var parts: [String] = []
        if let k = kldName { parts.append("kld \(k)") }
        if let b = betaName { parts.append("beta \(b)") }
        if let t = config?.value(at: "beta.target")?.double { parts.append("target \(NumberFormat.compact(t))") }
        return parts.isEmpty ? name : "\(name) (\(parts.joined(separator: ", ")))"
    }

    /// Every step that has an evaluation file or a sample image, ascending.
    public var evaluationSteps: [Int] {
        var steps = Set(evaluations.map(\.step))
        for images in sampleImages.values { steps.formUnion(images.keys) }
        return steps.sorted()
    }

    static func relative(_ message: String, to url: URL) -> String {
        let base = url.path.hasSuffix("/") ? url.path : url.path + "/"
        return message.replacingOccurrences(of: base, with: "")
    }
}
