import Foundation
import XCTest
import InkwellTestSupport
@testable import InkwellEngine

/// `BLAS.reexecWithTunedEnvironmentIfNeeded()` re-executes the process with OpenBLAS's settings in
/// its environment; it runs here in a child process (`inkwell-test-scenarios reexec`,
/// Tests/InkwellTestScenarios), which prints what OpenBLAS saw after the re-execution.
final class BLASEnvironmentTests: XCTestCase {
    private func child(timeout: String?) throws -> String {
        let (status, text) = try ChildProcess.run(
            try ChildProcess.testScenarios(), ["reexec"],
            environment: ["INKWELL_REEXEC_MARKER": "kept", "OPENBLAS_THREAD_TIMEOUT": timeout])
        XCTAssertEqual(status, 0, text)
        return text
    }

    func testMissingThreadTimeoutIsSetByReexecutingWithTheSameArgumentsAndEnvironment() throws {
        let text = try child(timeout: nil)
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("REEXEC ") }
        // One line: the first process re-executed itself before printing; the second printed.
        XCTAssertEqual(lines.count, 1, text)
        XCTAssertTrue(lines.first?.contains("OPENBLAS_THREAD_TIMEOUT=4 marker=kept") == true, text)
    }

    func testAUsersOwnValueWins() throws {
        let text = try child(timeout: "9")
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("REEXEC ") }
        XCTAssertEqual(lines.count, 1, text)
        XCTAssertTrue(lines.first?.contains("OPENBLAS_THREAD_TIMEOUT=9 marker=kept") == true, text)
    }
}
