/// A run's wall-clock budget (the configuration's `minutes`): where the configured steps would
/// not fit, the step the run must end at instead.
///
/// The trainer plans every `calibrationSteps` steps, from the mean time of its steps in this
/// process since the first (whose allocations are not typical), evaluations and checkpoints
/// included, and keeps the last evaluation's time for the final one. Each plan may move the end
/// earlier, or later again once the mean falls (a slow spell passed), never past the configured
/// steps; the learning-rate decay ends at the planned step, so a run on a slower machine trains
/// fewer steps along the same schedule rather than stopping part-way down it.
public struct TimeBudget: Sendable, Equatable {
    /// The whole run's budget in seconds (earlier, resumed parts included).
    public let seconds: Double
    /// Steps between plans (and timed before the first).
    public static let calibrationSteps = 10

    public init(minutes: Double) { seconds = minutes * 60 }

    /// The last step that fits: `step` plus the whole steps that the time left allows at
    /// `secondsPerStep`, after keeping `reserve` seconds (the final evaluation and checkpoint);
    /// never more than `target` and never less than `step` (end now).
    public func lastStep(step: Int, target: Int, elapsed: Double, secondsPerStep: Double, reserve: Double) -> Int {
        let left = seconds - elapsed - reserve
        guard left > 0, secondsPerStep > 0 else { return min(step, target) }
        let more = left / secondsPerStep
        return more >= Double(target - step) ? target : step + Int(more)
    }
}
