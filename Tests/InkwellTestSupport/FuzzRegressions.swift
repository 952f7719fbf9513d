import Foundation
import XCTest

/// The inputs a fuzz target crashed on, kept in `Fuzz/Regressions/TARGET/` (also part of that
/// target's corpus in `scripts/fuzz`), for tests that replay them through the fixed parser.
public enum FuzzRegressions {
    /// The kept inputs of `target` (e.g. "FuzzSafeTensors"), sorted; fails the test when the
    /// folder is missing or empty.
    public static func inputs(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws -> [URL] {
        let folder = SharedFixtures.repositoryRoot.appendingPathComponent("Fuzz/Regressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let urls = names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
        guard !urls.isEmpty else {
            XCTFail("no kept fuzz inputs in \(folder.path)", file: file, line: line)
            return []
        }
        return urls
    }
}
