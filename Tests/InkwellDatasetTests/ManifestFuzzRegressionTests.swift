import Foundation
import XCTest
import InkwellDataset
import InkwellTestSupport

/// manifest.json values on which using a decoded manifest trapped (frame size and frame totals
/// that overflow), kept in Fuzz/Regressions/FuzzManifestState: each is now refused on decoding,
/// naming the file.
final class ManifestFuzzRegressionTests: XCTestCase {
    func testEveryKeptFuzzInputIsAnErrorNamingTheFile() throws {
        for url in try FuzzRegressions.inputs("FuzzManifestState") {
            XCTAssertThrowsError(try DatasetManifest.decode(Data(contentsOf: url), file: url.path), url.lastPathComponent) { error in
                XCTAssertEqual((error as? DatasetError)?.kind, .malformed, "\(error)")
                XCTAssertTrue("\(error)".contains(url.path), "\(error)")
            }
        }
    }

    func testOversizedFramesAndCountsAreRefused() throws {
        let valid = try DatasetManifest.decode(try manifest { _ in }, file: "m.json")
        XCTAssertGreaterThan(valid.frameCount, 0)
        try expectRefusal("invalid frame size 4611686018427387904x") { $0["width"] = 1 << 62 }
        try expectRefusal("frames is too many") { Self.firstShard(&$0) { $0["frames"] = Int.max } }
        try expectRefusal("negative frame or byte count") { Self.firstShard(&$0) { $0["frames"] = -5 } }
        try expectRefusal("negative frame or byte count") { Self.firstShard(&$0) { $0["bytes"] = -1 } }
    }

    private func expectRefusal(_ reason: String, line: UInt = #line, _ edit: (inout [String: Any]) -> Void) throws {
        XCTAssertThrowsError(try DatasetManifest.decode(try manifest(edit), file: "/x/manifest.json"), line: line) { error in
            XCTAssertTrue("\(error)".contains("/x/manifest.json"), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(reason), "\(error)", line: line)
        }
    }

    /// The FuzzManifestState seed (a real ingest's manifest) as JSON, after `edit`.
    private func manifest(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        let seed = SharedFixtures.repositoryRoot.appendingPathComponent("Fuzz/Corpus/FuzzManifestState/ingest-manifest.json")
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: seed)) as? [String: Any])
        edit(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    private static func firstShard(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var shards = json["shards"] as! [[String: Any]]
        edit(&shards[0])
        json["shards"] = shards
    }
}
