import Foundation
import XCTest

/// Runs programs in a child process: the built `inkwell` tool as a user would, and
/// `inkwell-test-scenarios` for tests that need a fresh process (a crash, a re-execution).
public enum ChildProcess {
    /// Runs `executable` with `arguments`; `environment` changes the inherited environment (a nil
    /// value removes the variable). Returns the exit status and standard output and error together.
    public static func run(_ executable: URL, _ arguments: [String],
                           environment changes: [String: String?] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in changes { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `executable` with `arguments`, its output discarded; the caller waits or kills it.
    public static func start(_ executable: URL, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts `executable` with `arguments` and sends it SIGKILL after `microseconds`; returns
    /// whether the kill landed (false when the program had already finished).
    public static func startAndKill(_ executable: URL, _ arguments: [String], after microseconds: UInt32) throws -> Bool {
        let process = try start(executable, arguments)
        usleep(microseconds)
        guard process.isRunning else { process.waitUntilExit(); return false }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// The built `inkwell` tool: beside the test bundle (`.build/<configuration>/inkwell`, which
    /// `swift test` builds with the tests), else the package's release build. Skips, printing why,
    /// when there is none.
    public static func inkwellTool() throws -> URL { try builtExecutable("inkwell") }

    /// `inkwell-test-scenarios` (Tests/InkwellTestScenarios): the child processes of tests that
    /// need a fresh process (a crash, a re-execution), found like `inkwellTool()`.
    public static func testScenarios() throws -> URL { try builtExecutable("inkwell-test-scenarios") }

    /// An executable product of this package: beside the test bundle, one folder up, else in the
    /// package's release build. Skips, printing why, when there is none.
    public static func builtExecutable(_ name: String) throws -> URL {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleFolder.appendingPathComponent(name),
                          bundleFolder.deletingLastPathComponent().appendingPathComponent(name),
                          SharedFixtures.repositoryRoot.appendingPathComponent(".build/release/\(name)")]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            let reason = "skipped: no built \(name) beside \(bundleFolder.path) (run swift build first)"
            print(reason)
            throw XCTSkip(reason)
        }
        return tool
    }
}
