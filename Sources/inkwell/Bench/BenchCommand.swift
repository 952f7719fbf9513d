import ArgumentParser

/// `inkwell bench ...`: benchmark commands that print figures and ratios against a yardstick
/// measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed and memory, with a yardstick from the same run.",
        subcommands: [
            BenchOpsCommand.self,
        ]
    )
}
