import Foundation

/// Where a run directory keeps the files that more than one type reads or writes.
public enum RunLayout {
    /// RUN/config.json: the resolved training configuration.
    public static func configuration(_ run: URL) -> URL { run.appendingPathComponent("config.json") }
    /// RUN/metrics.csv: one row per step and per evaluation.
    public static func metrics(_ run: URL) -> URL { run.appendingPathComponent("metrics.csv") }
    /// RUN/checkpoints/latest: the checkpoint a resume continues from.
    public static func latestCheckpoint(_ run: URL) -> URL { run.appendingPathComponent("checkpoints/latest") }
    /// RUN/baselines/pca.safetensors: the evaluation baselines fitted to the training split.
    public static func baselines(_ run: URL) -> URL { run.appendingPathComponent("baselines/pca.safetensors") }
}
