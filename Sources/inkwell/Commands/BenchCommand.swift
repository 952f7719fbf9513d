import ArgumentParser

/// `inkwell bench`: benchmark commands that print figures and ratios (never timed tests).
/// Each benchmark is its own subcommand type in its own file, registered here.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Inkwell's speed (prints figures and ratios).",
        subcommands: [
            BenchOpsCommand.self,
            BenchTrainCommand.self,
            BenchInferCommand.self,
            BenchIngestCommand.self,
            BenchLoaderCommand.self,
            BenchSgemmCommand.self,
            BenchDistributedCommand.self,
        ]
    )
}
