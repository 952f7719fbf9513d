import ArgumentParser
import Inkwell

/// `inkwell`: the command-line entry point. Each subcommand is its own type, one file each under
/// Commands/; validation happens in `validate()`, work in `run()`.
@main
struct InkwellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inkwell",
        abstract: "Gameplay videos to a trained VAE-GAN, on the CPU.",
        subcommands: [
            SelftestCommand.self,
            BenchCommand.self,
            TrainCommand.self,
            IngestCommand.self,
            DatasetCommand.self,
            RunCommand.self,
            ValidateCommand.self,
            GraphCommand.self,
            StagesCommand.self,
            ReportCommand.self,
            CompareCommand.self,
            ReconstructCommand.self,
            EvaluateCommand.self,
            SampleCommand.self,
            EncodeCommand.self,
            DecodeCommand.self,
            InterpolateCommand.self,
        ]
    )

    static func main() {
        // OpenBLAS's settings must be in the environment before it initialises.
        BLAS.reexecWithTunedEnvironmentIfNeeded()
        DistributedLaunch.installWorldIfLaunched()
        guard World.communicator.isDistributed else { main(nil); return }
        // Under an MPI launcher, an error on one rank ends the whole job (MPI_Abort, naming the
        // rank) instead of leaving the others waiting for it; success finalises MPI at exit.
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code.isSuccess || error is CleanExit { exit(withError: error) }
            let message = fullMessage(for: error)
            World.communicator.abort(message.isEmpty ? "stopped (exit status \(code.rawValue))" : message, code: code.rawValue)
        }
    }
}
