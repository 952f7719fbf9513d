import Foundation
import InkwellFiles

/// RUN/metrics.csv: one row per training step and one per evaluation (phase `test`), with the
/// header `columns` (docs/RUN-DIRECTORY.md lists them).
///
/// Crash safety. The file is the one a run appends to, so it is not rewritten through
/// `AtomicFile` at every row; what a resume needs is that every row up to the checkpoint it
/// continues from is on disk, and nothing else:
/// - a new file's header, and the file a resume trims, are written through `AtomicFile`;
/// - rows are appended (one `write` each) and `sync()` flushes them; the trainer calls it before
///   every checkpoint, so a durable checkpoint at step S implies durable rows through step S;
/// - rows written after the last checkpoint may be lost or torn by a crash: a resume from step S
///   drops every row of a later step, and any row whose field count is not the header's (a torn
///   last line), then continues appending.
public final class MetricsLog {
    public static let columns = [
        "phase", "time", "step", "epoch", "kld", "beta", "feats", "gen_recon", "gen_fake", "disc_real", "disc_recon",
        "disc_fake", "pixel", "z_mean", "z_min", "z_max", "z_var", "z_std_mean", "z_std_min", "z_std_max", "z_std_var",
        "psnr", "diversity", "collapsed", "psnr_mean_frame", "psnr_pca", "fd", "fd_floor",
    ]
    /// The columns before the baseline ones: a file with that header is resumed with its rows widened.
    static let previousColumnCount = columns.firstIndex(of: "psnr_mean_frame")!
    static var header: String { columns.joined(separator: ",") }
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending, writing the header when the file is new. When `keepThroughStep`
    /// is given (resuming), rows of later steps (written after the checkpoint) are dropped first.
    public init(url: URL, keepThroughStep: Int? = nil) throws {
        self.url = url
        do {
            if let keep = keepThroughStep, FileManager.default.fileExists(atPath: url.path) {
                try Self.trim(url, keepThroughStep: keep)
            } else {
                try AtomicFile.write(Self.header + "\n", to: url)
            }
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch let error as TrainingError { throw error } catch {
            throw TrainingError.io("\(url.path): \(error.localizedDescription)")
        }
    }

    /// Rewrites `url` (atomically) with the rows of steps up to `keep`, widening the rows of a
    /// file written before the baseline columns and dropping torn rows.
    static func trim(_ url: URL, keepThroughStep keep: Int) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let widen = lines.first == columns.prefix(previousColumnCount).joined(separator: ",")
        guard let first = lines.first, first == header || widen else {
            throw TrainingError.io("\(url.path): not a metrics file of this version (header differs)")
        }
        let padding = widen ? String(repeating: ",", count: columns.count - previousColumnCount) : ""
        let rows = lines.dropFirst().map { $0 + padding }.filter { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count == columns.count && (Int(fields[2]) ?? Int.max) <= keep
        }
        try AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n", to: url)
    }

    /// Flushes the rows appended so far to disk (before a checkpoint that counts on them).
    public func sync() throws {
        do { try handle.synchronize() } catch {
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
