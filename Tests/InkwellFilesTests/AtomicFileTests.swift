import Foundation
import XCTest
import InkwellFiles

final class AtomicFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-file-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        chmod(folder.path, 0o755)
        try? FileManager.default.removeItem(at: folder)
    }

    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() }

    func inode(_ url: URL) throws -> UInt64 {
        try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? NSNumber)?.uint64Value)
    }

    /// The new content replaces the old by a rename: a reader that opened the old file keeps
    /// reading the old bytes whole, a new reader sees the new bytes whole, and nothing else is
    /// left in the folder.
    func testContentIsReplacedAtomically() throws {
        let url = folder.appendingPathComponent("state.json")
        try AtomicFile.write(Data("old content".utf8), to: url)
        let before = try inode(url)
        let reader = try FileHandle(forReadingFrom: url)
        defer { try? reader.close() }

        try AtomicFile.write("new", to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "new")
        XCTAssertNotEqual(try inode(url), before, "a new file renamed into place, not the old one rewritten")
        XCTAssertEqual(String(decoding: try reader.readToEnd() ?? Data(), as: UTF8.self), "old content")
        XCTAssertEqual(try names(), ["state.json"], "no temporary file is left after a write")
    }

    func testChunksAreWrittenInOrder() throws {
        let url = folder.appendingPathComponent("shard.bin")
        let a: [UInt8] = [1, 2, 3], b: [UInt8] = [], c: [UInt8] = [4, 5]
        try a.withUnsafeBytes { pa in try b.withUnsafeBytes { pb in try c.withUnsafeBytes { pc in
            try AtomicFile.write([pa, pb, pc], to: url)
        } } }
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), [1, 2, 3, 4, 5])
    }

    /// A write that fails after its temporary file was made (the destination is a folder that
    /// cannot be replaced) throws naming the destination, removes the temporary file and leaves
    /// the destination as it was.
    func testAFailedWriteLeavesNoTemporaryFileAndTheDestinationIntact() throws {
        let destination = folder.appendingPathComponent("latest")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        try Data("kept".utf8).write(to: destination.appendingPathComponent("inside.txt"))
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: destination)) { error in
            let failure = error as? FileWriteError
            XCTAssertEqual(failure?.path, destination.path)
            XCTAssertTrue("\(error)".hasPrefix("\(destination.path): rename failed"), "\(error)")
        }
        XCTAssertEqual(try names(), ["latest"], "the temporary file is removed after a failure")
        XCTAssertEqual(try String(contentsOf: destination.appendingPathComponent("inside.txt"), encoding: .utf8), "kept")
    }

    func testAMissingFolderIsAnErrorNamingTheFile() throws {
        let url = folder.appendingPathComponent("no-such-folder/metrics.csv")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertEqual((error as? FileWriteError)?.path, url.path)
            XCTAssertTrue("\(error)".hasPrefix("\(url.path): cannot create: "), "\(error)")
            XCTAssertEqual(error.localizedDescription, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("no-such-folder").path),
                       "a missing folder is not created")
    }

    func testAReadOnlyFolderIsAnErrorNamingTheFile() throws {
        try XCTSkipIf(geteuid() == 0, "root writes into read-only folders; the permission check cannot fail")
        let url = folder.appendingPathComponent("config.json")
        XCTAssertEqual(chmod(folder.path, 0o555), 0)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertEqual((error as? FileWriteError)?.path, url.path)
            XCTAssertTrue("\(error)".contains("Permission denied"), "\(error)")
        }
        XCTAssertEqual(chmod(folder.path, 0o755), 0)
        XCTAssertEqual(try names(), [])
    }

    /// The folder sync that makes a rename durable: it succeeds on a folder and reports a path
    /// it cannot sync (missing, or a file) instead of failing silently.
    func testFolderSync() throws {
        XCTAssertTrue(AtomicFile.syncDirectory(folder))
        XCTAssertFalse(AtomicFile.syncDirectory(folder.appendingPathComponent("missing")))
        let file = folder.appendingPathComponent("file")
        try AtomicFile.write("x", to: file)
        XCTAssertFalse(AtomicFile.syncDirectory(file), "a file is not a folder")
        XCTAssertNoThrow(try AtomicFile.sync(file))
        XCTAssertThrowsError(try AtomicFile.sync(folder.appendingPathComponent("gone.csv"))) { error in
            XCTAssertEqual((error as? FileWriteError)?.path, folder.appendingPathComponent("gone.csv").path)
        }
    }

    /// `move` renames a folder written under a temporary name into place (syncing both folders),
    /// and names the destination when it cannot.
    func testMoveRenamesIntoPlace() throws {
        let staging = folder.appendingPathComponent(".tmp-latest-1")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        try AtomicFile.write("{}", to: staging.appendingPathComponent("state.json"))
        let sub = folder.appendingPathComponent("checkpoints")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        try AtomicFile.move(staging, to: sub.appendingPathComponent("latest"))
        XCTAssertEqual(try String(contentsOf: sub.appendingPathComponent("latest/state.json"), encoding: .utf8), "{}")
        XCTAssertEqual(try names(), ["checkpoints"])
        let target = folder.appendingPathComponent("none/latest")
        XCTAssertThrowsError(try AtomicFile.move(staging, to: target)) { error in
            XCTAssertEqual((error as? FileWriteError)?.path, target.path)
        }
    }

    /// What killed writers leave (hidden names with a temporary marker) is found and removed,
    /// in one folder or in a whole tree; other hidden files stay.
    func testLeftoverTemporariesAreRemoved() throws {
        let sub = folder.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for name in [".a.json.tmp-1-2", "a.json", ".hidden", "samples/.fakes.png.tmp-3-4", "samples/.clip.partial-5-6.mp4", "samples/b.png"] {
            try Data().write(to: folder.appendingPathComponent(name))
        }
        XCTAssertEqual(AtomicFile.removeTemporaryFiles(in: folder), [".a.json.tmp-1-2"])
        XCTAssertEqual(AtomicFile.removeTemporaries(under: folder).sorted(), ["samples/.clip.partial-5-6.mp4", "samples/.fakes.png.tmp-3-4"])
        XCTAssertEqual(try names(), [".hidden", "a.json", "samples"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sub.path), ["b.png"])
    }

    func testTemporaryNamesAreHiddenSiblings() {
        let url = URL(fileURLWithPath: "/run/metrics.csv")
        let a = AtomicFile.temporaryURL(for: url), b = AtomicFile.temporaryURL(for: url)
        XCTAssertEqual(a.deletingLastPathComponent().path, "/run")
        XCTAssertTrue(a.lastPathComponent.hasPrefix(".metrics.csv\(AtomicFile.temporaryMarker)\(getpid())-"))
        XCTAssertNotEqual(a, b)
    }
}

final class DurationFormatTests: XCTestCase {
    func testWords() {
        XCTAssertEqual(DurationFormat.words(0.25), "250 ms")
        XCTAssertEqual(DurationFormat.words(12.34), "12.3 s")
        XCTAssertEqual(DurationFormat.words(65), "1 min 05 s")
        XCTAssertEqual(DurationFormat.words(3725), "1 h 02 min")
        XCTAssertEqual(DurationFormat.words(.nan), "unknown")
    }

    func testCompact() {
        XCTAssertEqual(DurationFormat.compact(45.4), "45s")
        XCTAssertEqual(DurationFormat.compact(123), "2m03s")
        XCTAssertEqual(DurationFormat.compact(3725), "1h02m")
        XCTAssertEqual(DurationFormat.compact(.infinity), "?")
    }
}
