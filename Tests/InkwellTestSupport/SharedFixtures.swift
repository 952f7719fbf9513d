import Foundation
import XCTest

/// Finds the project's shared folder (`../shared` beside the repository: SPEC, golden values,
/// fixture videos). `INKWELL_SHARED` overrides the location.
public enum SharedFixtures {
    /// The repository root (the folder holding Package.swift).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The shared folder, or nil when it is absent.
    public static var directory: URL? {
        if let env = ProcessInfo.processInfo.environment["INKWELL_SHARED"], !env.isEmpty {
            let url = URL(fileURLWithPath: env)
            return FileManager.default.fileExists(atPath: url.path) ? url : nil
        }
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("SPEC.md").path) ? url : nil
    }

    /// A path inside the shared folder; skips the calling test, printing why, when it is absent.
    public static func require(_ relativePath: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        guard let dir = directory else {
            let reason = "skipped: ../shared not found beside \(repositoryRoot.path) (set INKWELL_SHARED); needs \(relativePath)"
            print(reason)
            throw XCTSkip(reason, file: file, line: line)
        }
        let url = dir.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let reason = "skipped: \(url.path) not found"
            print(reason)
            throw XCTSkip(reason, file: file, line: line)
        }
        return url
    }

    /// A fresh temporary directory, removed when the test ends.
    public static func temporaryDirectory(_ test: XCTestCase, name: String = "inkwell-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
