import Foundation
import XCTest

/// Runs programs, or this test binary itself, in a child process for tests that need a fresh
/// process (a crash, a re-execution) or another program.
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

    /// Runs one test of the running test binary (`Module.Class/testName`) in a child process, or
    /// skips where the binary cannot be re-run.
    public static func runTest(_ test: String, environment changes: [String: String?]) throws -> (status: Int32, output: String) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        guard FileManager.default.isExecutableFile(atPath: binary.path), binary.path.hasSuffix(".xctest") else {
            throw XCTSkip("cannot re-run the test binary (\(binary.path)) on this platform")
        }
        return try run(binary, [test], environment: changes)
    }

    /// The built `inkwell` tool: beside the test bundle (`.build/<configuration>/inkwell`, which
    /// `swift test` builds with the tests), else the package's release build. Skips, printing why,
    /// when there is none.
    public static func inkwellTool() throws -> URL {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleFolder.appendingPathComponent("inkwell"),
                          bundleFolder.deletingLastPathComponent().appendingPathComponent("inkwell"),
                          SharedFixtures.repositoryRoot.appendingPathComponent(".build/release/inkwell")]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            let reason = "skipped: no built inkwell tool beside \(bundleFolder.path) (run swift build first)"
            print(reason)
            throw XCTSkip(reason)
        }
        return tool
    }
}
