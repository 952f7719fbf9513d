import Foundation
import InkwellFiles

/// RUN/metrics.csv: one row per training step and one per evaluation (phase `test`), with the
/// header of notes/contracts.md. Rows are flushed as they are written.
public final class MetricsLog {
    public static let columns = [
        "phase", "time", "step", "epoch", "kld", "beta", "feats", "gen_recon", "gen_fake", "disc_real", "disc_recon",
        "disc_fake", "pixel", "z_mean", "z_min", "z_max", "z_var", "z_std_mean", "z_std_min", "z_std_max", "z_std_var",
        "psnr", "diversity", "collapsed", "psnr_mean_frame", "psnr_pca", "fd", "fd_floor",
    ]
    /// The columns before the baseline ones: a file with that header is resumed with its rows widened.
    static let previousColumnCount = columns.firstIndex(of: "psnr_mean_frame")!
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending, writing the header when the file is new. When `keepThroughStep`
    /// is given (resuming), rows of later steps (written after the checkpoint) are dropped first.
    public init(url: URL, keepThroughStep: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        let header = Self.columns.joined(separator: ",") + "\n"
        do {
            if let keep = keepThroughStep, fm.fileExists(atPath: url.path) {
                let text = try String(contentsOf: url, encoding: .utf8)
                var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                let widen = lines.first == Self.columns.prefix(Self.previousColumnCount).joined(separator: ",")
                guard let first = lines.first, first == Self.columns.joined(separator: ",") || widen else {
                    throw TrainingError.io("\(url.path): not a metrics file of this version (header differs)")
                }
                let padding = widen ? String(repeating: ",", count: Self.columns.count - Self.previousColumnCount) : ""
                lines = [Self.columns.joined(separator: ",")] + lines.dropFirst().map { $0 + padding }.filter { line in
                    let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                    return fields.count > 2 && (Int(fields[2]) ?? Int.max) <= keep
                }
                try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
            } else {
                try Data(header.utf8).write(to: url)
            }
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch let error as TrainingError { throw error } catch {
            throw TrainingError.io("\(url.path): \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    /// Formats a number as the CSV holds it (9 significant digits: every Float exactly).
    static func format(_ value: Double?) -> String {
        guard let value else { return "" }
        return String(format: "%.9g", value)
    }

    /// Writes one row; `values` by column name, missing names left empty.
    public func append(_ values: [String: String]) throws {
        let line = Self.columns.map { values[$0] ?? "" }.joined(separator: ",") + "\n"
        do { try handle.write(contentsOf: Data(line.utf8)) } catch {
            throw TrainingError.io("\(url.path): \(error.localizedDescription)")
        }
    }

    /// A training step's row.
    public func appendTrain(time: Double, step: Int, epoch: Int, result: StepResult) throws {
        var row: [String: String] = ["phase": "train", "time": String(format: "%.3f", time), "step": "\(step)", "epoch": "\(epoch)",
                                     "beta": Self.format(result.beta)]
        for (key, value) in result.losses { row[key] = Self.format(Double(value)) }
        row["z_mean"] = Self.format(result.z.mean); row["z_min"] = Self.format(result.z.min)
        row["z_max"] = Self.format(result.z.max); row["z_var"] = Self.format(result.z.variance)
        row["z_std_mean"] = Self.format(result.zStd.mean); row["z_std_min"] = Self.format(result.zStd.min)
        row["z_std_max"] = Self.format(result.zStd.max); row["z_std_var"] = Self.format(result.zStd.variance)
        try append(row)
    }

    /// An evaluation's row: `kld` is the run's strategy's KLD on the test frames.
    public func appendTest(time: Double, evaluation e: EvaluationResult, kldName: String) throws {
        var row: [String: String] = ["phase": "test", "time": String(format: "%.3f", time), "step": "\(e.step)", "epoch": "\(e.epoch)",
                                     "kld": Self.format(e.kld[kldName]), "beta": Self.format(e.beta), "feats": Self.format(e.feats),
                                     "pixel": Self.format(e.pixelMSE), "psnr": Self.format(e.psnr),
                                     "diversity": Self.format(e.diversity.ratio), "collapsed": Self.format(e.collapsedFraction),
                                     "psnr_mean_frame": Self.format(e.baselines?.meanFrame.psnr), "psnr_pca": Self.format(e.baselines?.pca.psnr),
                                     "fd": Self.format(e.frechet?.fakes), "fd_floor": Self.format(e.frechet?.floor)]
        for (key, value) in e.losses { row[key] = Self.format(value) }
        for (key, value) in e.zStatistics { row[key] = Self.format(value) }
        try append(row)
    }
}
