import Foundation
import InkwellPipeline
import InkwellTraining

/// Everything a run directory holds that the report shows (`RunLayout`; docs/RUN-DIRECTORY.md):
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
    /// name order, then from the completion records (`StageRecord`, `.inkwell/<stage>/record.json`) of the
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
        let layout = RunLayout(url)
        (config, configProblem) = Self.loadConfiguration(layout)
        (metrics, metricsProblem) = Self.loadMetrics(layout)
        (evaluations, evaluationProblems) = Self.loadEvaluations(layout)
        sampleImages = Self.findSamples(layout)
        checkpoints = Self.loadCheckpoints(layout)
        videos = Self.findVideos(layout)
        (stageTimings, timingsProblem) = Self.loadTimings(layout)
    }

    /// config.json, or why it is absent.
    static func loadConfiguration(_ layout: RunLayout) -> (JSONValue?, String?) {
        let name = RunLayout.configurationName
        guard FileManager.default.fileExists(atPath: layout.configuration.path) else { return (nil, "\(name) is missing") }
        do {
            let json = try JSONValue.read(layout.configuration)
            return json.object == nil ? (nil, "\(name): not a JSON object") : (json, nil)
        } catch {
            return (nil, relative("\(error)", to: layout.root))
        }
    }

    /// metrics.csv, or why it is absent or empty.
    static func loadMetrics(_ layout: RunLayout) -> (MetricsTable?, String?) {
        let name = RunLayout.metricsName
        guard FileManager.default.fileExists(atPath: layout.metrics.path) else {
            return (nil, "\(name) is missing (no training steps recorded yet)")
        }
        do {
            let table = try MetricsTable(contentsOf: layout.metrics)
            return (table, table.rowCount == 0 ? "\(name) has a header but no rows yet" : nil)
        } catch {
            return (nil, relative("\(error)", to: layout.root))
        }
    }

    /// evaluations/*.json sorted by step, and a line for each unreadable one.
    static func loadEvaluations(_ layout: RunLayout) -> ([EvaluationRecord], [String]) {
        var evaluations: [EvaluationRecord] = []
        var problems: [String] = []
        if let names = try? FileManager.default.contentsOfDirectory(atPath: layout.evaluations.path) {
            for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
                do {
                    evaluations.append(try EvaluationRecord(contentsOf: layout.evaluations.appendingPathComponent(name)))
                } catch {
                    problems.append(relative("\(error)", to: layout.root))
                }
            }
        }
        return (evaluations.sorted { $0.step < $1.step }, problems)
    }

    /// samples/<kind>-step-<N>.png by kind and step (run-relative paths).
    static func findSamples(_ layout: RunLayout) -> [String: [Int: String]] {
        var samples: [String: [Int: String]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.samples.path)) ?? [] {
            guard let (kind, step) = RunLayout.sample(ofFileName: name) else { continue }
            samples[kind, default: [:]][step] = "\(RunLayout.samplesName)/\(name)"
        }
        return samples
    }

    /// The folders of checkpoints/: latest first, then best-1, best-2, ... in numeric order, then
    /// the rest.
    static func loadCheckpoints(_ layout: RunLayout) -> [Checkpoint] {
        let fm = FileManager.default
        var checkpoints: [Checkpoint] = []
        for name in ((try? fm.contentsOfDirectory(atPath: layout.checkpoints.path)) ?? []).sorted() where !name.hasPrefix(".") {
            let folder = layout.checkpoints.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else { continue }
            let path = "\(RunLayout.checkpointsName)/\(name)"
            let files = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted().filter { !$0.hasPrefix(".") }
                .map { file -> (path: String, bytes: Int64) in
                    let size = (try? fm.attributesOfItem(atPath: folder.appendingPathComponent(file).path)[.size] as? NSNumber)??.int64Value ?? 0
                    return ("\(path)/\(file)", size)
                }
            let state = try? JSONValue.read(folder.appendingPathComponent(InkwellTraining.Checkpoint.stateFile))
            checkpoints.append(Checkpoint(name: name, path: path, files: files, state: state))
        }
        func rank(_ c: Checkpoint) -> (Int, Int, String) {
            if c.name == RunLayout.latestName { return (0, 0, c.name) }
            if let k = RunLayout.bestRank(c.name) { return (1, k, c.name) }
            return (2, 0, c.name)
        }
        return checkpoints.sorted { rank($0) < rank($1) }
    }

    /// Run-relative paths of the `.mp4` files at the top of the run and in samples/, videos/, export/.
    static func findVideos(_ layout: RunLayout) -> [String] {
        var videos: [String] = []
        for folder in ["", RunLayout.samplesName, "videos", "export"] {
            let dir = folder.isEmpty ? layout.root : layout.root.appendingPathComponent(folder)
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
            where name.lowercased().hasSuffix(".mp4") && !name.hasPrefix(".") {
                videos.append(folder.isEmpty ? name : "\(folder)/\(name)")
            }
        }
        return videos
    }

    /// Stage timings from timings.json, then from the records of the pipeline that made the run.
    static func loadTimings(_ layout: RunLayout) -> ([(name: String, seconds: Double)], String?) {
        var timings: [(name: String, seconds: Double)] = []
        var problem: String? = nil
        if FileManager.default.fileExists(atPath: layout.timings.path) {
            do {
                let json = try JSONValue.read(layout.timings)
                if let members = json.object {
                    for key in members.keys.sorted() {
                        if let s = members[key]?.double ?? members[key]?["seconds"]?.double { timings.append((key, s)) }
                    }
                } else {
                    problem = "\(RunLayout.timingsName): not a JSON object"
                }
            } catch {
                problem = relative("\(error)", to: layout.root)
            }
        }
        if let records = pipelineRecords(above: layout.root) {
            let known = Set(timings.map(\.name))
            timings += records.filter { !known.contains($0.name) }
        }
        return (timings, problem)
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

    /// (stage, seconds) of every completed stage (`StageRecord`) of the pipeline work folder at
    /// or up to four levels above `run`, ordered by start time; nil when there is none.
    static func pipelineRecords(above run: URL) -> [(name: String, seconds: Double)]? {
        var folder = run
        for _ in 0..<5 {
            if let records = StageRecord.all(workDirectory: folder) { return records.map { ($0.stage, $0.seconds) } }
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
