import Foundation

/// Every path of a run directory (docs/RUN-DIRECTORY.md: what each file holds, who writes it and
/// who reads it). Writers and readers ask this type for a path instead of spelling it, so the
/// layout is defined once:
///
///     RUN/config.json                        the resolved training configuration
///     RUN/metrics.csv                        one row per step and per evaluation (MetricsLog)
///     RUN/checkpoints/latest/                the checkpoint a resume continues from (Checkpoint)
///     RUN/checkpoints/best-K/                the K best by test pixel error (BestCheckpoints)
///     RUN/evaluations/step-NNNNNNNN.json     one evaluation (EvaluationResult)
///     RUN/samples/fakes-step-NNNNNNNN.png    fixed-latent fakes of an evaluation
///     RUN/samples/recon-step-NNNNNNNN.png    originals over their reconstructions
///     RUN/baselines/pca.safetensors          the evaluation baselines of the training split
///     RUN/report.html                        the HTML report (`inkwell report`)
///     RUN/timings.json                       optional stage timings (the report reads them)
///     RUN/logs/rank-K.log                    each rank's log of a multi-job training
public struct RunLayout: Sendable, Equatable {
    /// The run directory.
    public let root: URL

    public init(_ root: URL) { self.root = root }

    // Run-relative names: the on-disk contract, spelled here once.
    public static let configurationName = "config.json"
    public static let metricsName = "metrics.csv"
    public static let checkpointsName = "checkpoints"
    public static let latestName = "latest"
    /// The prefix of the best checkpoints' folder names (`best-1`, `best-2`, ...).
    public static let bestPrefix = "best-"
    public static let evaluationsName = "evaluations"
    public static let samplesName = "samples"
    public static let baselinesName = "baselines/pca.safetensors"
    public static let timingsName = "timings.json"
    public static let reportName = "report.html"
    public static let logsName = "logs"

    public var configuration: URL { root.appendingPathComponent(Self.configurationName) }
    public var metrics: URL { root.appendingPathComponent(Self.metricsName) }
    public var checkpoints: URL { root.appendingPathComponent(Self.checkpointsName) }
    public var latestCheckpoint: URL { checkpoints.appendingPathComponent(Self.latestName) }
    /// RUN/checkpoints/best-`rank` (1 is the best).
    public func bestCheckpoint(_ rank: Int) -> URL { checkpoints.appendingPathComponent(Self.bestName(rank)) }
    public var evaluations: URL { root.appendingPathComponent(Self.evaluationsName) }
    public func evaluation(step: Int) -> URL { evaluations.appendingPathComponent(Self.evaluationFileName(step: step)) }
    public var samples: URL { root.appendingPathComponent(Self.samplesName) }
    public var baselines: URL { root.appendingPathComponent(Self.baselinesName) }
    public var timings: URL { root.appendingPathComponent(Self.timingsName) }
    public var report: URL { root.appendingPathComponent(Self.reportName) }
    /// RUN/logs: the log of each rank of a multi-rank training (RankJobs).
    public var logs: URL { root.appendingPathComponent(Self.logsName) }
    public func rankLog(_ rank: Int) -> URL { logs.appendingPathComponent("rank-\(rank).log") }

    /// `best-3` for rank 3; `bestRank("best-3")` is 3.
    public static func bestName(_ rank: Int) -> String { "\(bestPrefix)\(rank)" }
    public static func bestRank(_ name: String) -> Int? {
        name.hasPrefix(bestPrefix) ? Int(name.dropFirst(bestPrefix.count)) : nil
    }
    /// `step-00000700.json`; `step(ofEvaluationFile:)` reads 700 back.
    public static func evaluationFileName(step: Int) -> String { String(format: "step-%08d.json", step) }
    public static func step(ofEvaluationFile name: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(".json") else { return nil }
        return Int(name.dropFirst(5).dropLast(5))
    }
    /// The file name of an evaluation's sample image of `kind` (`fakes`, `recon`):
    /// `fakes-step-00000700.png`.
    public static func sampleFileName(_ kind: String, step: Int) -> String { "\(kind)-step-\(String(format: "%08d", step)).png" }
    /// Its run-relative path (`samples/fakes-step-00000700.png`), as evaluation.json records it.
    public static func samplePath(_ kind: String, step: Int) -> String { "\(samplesName)/\(sampleFileName(kind, step: step))" }
    /// (kind, step) of a sample file name, or nil for another name.
    public static func sample(ofFileName name: String) -> (kind: String, step: Int)? {
        guard name.hasSuffix(".png") else { return nil }
        let stem = name.dropLast(4)
        guard let range = stem.range(of: "-step-"), let step = Int(stem[range.upperBound...]) else { return nil }
        return (String(stem[..<range.lowerBound]), step)
    }
}
