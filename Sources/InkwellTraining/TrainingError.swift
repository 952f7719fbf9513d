import Foundation

/// Errors a training run reports to its user: each a one-line reason.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError {
    /// A bad configuration value (widths, frame size, strategy parameters, CLI options).
    case configuration(String)
    /// A dataset that cannot be trained on (too small, wrong frame size).
    case data(String)
    /// A checkpoint that is missing, corrupt or does not fit the model.
    case checkpoint(String)
    /// A loss became NaN or infinite; training stopped.
    case nonFinite(step: Int, loss: String, value: Float)
    /// Writing run files failed (e.g. out of disk); the previous checkpoint is intact.
    case io(String)
    /// In data-parallel training, ranks whose weights differ from rank 0's.
    case divergence(String)

    public var description: String {
        switch self {
        case .configuration(let s): return "configuration error: \(s)"
        case .data(let s): return "data error: \(s)"
        case .checkpoint(let s): return "checkpoint error: \(s)"
        case .nonFinite(let step, let loss, let value):
            return "training stopped at step \(step): loss \(loss) is \(value); the last good checkpoint is kept"
        case .io(let s): return "write error: \(s)"
        case .divergence(let s): return "replicas diverged: \(s)"
        }
    }
    public var errorDescription: String? { description }
}
