import InkwellPipeline
import InkwellTestSupport
import XCTest

/// The plugin loader's refusals. (Loading a real plugin needs Inkwell's `inkwell` executable as
/// host; `scripts/test-plugin-example` builds Examples/InkwellPluginExample and runs a pipeline
/// with its stage and beta strategy.)
final class PluginLoaderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try SharedFixtures.temporaryDirectory(self, name: "inkwell-plugins")
    }

    func testMissingLibraryIsReported() {
        let url = directory.appendingPathComponent("libAbsent.so")
        XCTAssertThrowsError(try PluginLoader.load(url, into: StageRegistry())) { error in
            XCTAssertEqual("\(error)", "no such file \(url.path) (build the plugin package first, e.g. `swift build` in its folder)")
        }
    }

    func testFileThatIsNotALibraryIsReported() throws {
        let url = directory.appendingPathComponent("libText.so")
        try "not a library".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PluginLoader.load(url, into: StageRegistry())) { error in
            XCTAssertTrue("\(error)".hasPrefix("dlopen failed: "), "\(error)")
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    func testLibraryWithoutEntryPointIsReported() throws {
        let candidates = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1",
                          "/usr/lib/aarch64-linux-gnu/libz.so.1"]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("no libz.so.1 to load")
        }
        XCTAssertThrowsError(try PluginLoader.load(URL(fileURLWithPath: path), into: StageRegistry())) { error in
            XCTAssertEqual("\(error)", "\(path) does not export 'inkwell_plugin_register' (declare it with @_cdecl(\"inkwell_plugin_register\"))")
        }
    }

    func testPipelineReportsUnloadablePluginAtItsEntry() throws {
        let url = directory.appendingPathComponent("p.yaml")
        try "plugins:\n  - build/libMissing.so\nstages:\n  src: {kind: source}\n".write(to: url, atomically: true, encoding: .utf8)
        let loader = PipelineLoader(registry: TestRegistry.make(), loadPlugin: { try PluginLoader.load($0, into: StageRegistry()) })
        XCTAssertThrowsError(try loader.load(url)) { error in
            let lines = (error as? PipelineValidationError)?.diagnostics.map(\.description) ?? ["\(error)"]
            XCTAssertEqual(lines.count, 1, "\(lines)")
            XCTAssertTrue(lines[0].hasPrefix("\(url.path):2:5: error: cannot load plugin 'build/libMissing.so': no such file \(self.directory.appendingPathComponent("build/libMissing.so").path)"), lines[0])
        }
    }

    func testPluginPathsUseVariablesAndResolveAgainstThePipelineFolder() throws {
        let url = directory.appendingPathComponent("p.yaml")
        try "vars: {build: release}\nplugins:\n  - .build/${build}/libX.so\nstages:\n  src: {kind: source}\n".write(to: url, atomically: true, encoding: .utf8)
        var requested: [URL] = []
        let pipeline = try PipelineLoader(registry: TestRegistry.make(), loadPlugin: { requested.append($0) }).load(url)
        XCTAssertEqual(requested.map(\.path), [directory.appendingPathComponent(".build/release/libX.so").path])
        XCTAssertEqual(pipeline.plugins, requested)
    }
}
