import Foundation
import XCTest

/// Runs Debian's Chromium headless on a local page: dumps the DOM after load, or takes a
/// screenshot. Tests using it skip, printing why, when no Chromium is installed.
struct HeadlessChromium {
    let executable: URL
    let profile: URL

    /// The installed browser, or an XCTSkip with the reason.
    static func require(_ test: XCTestCase) throws -> HeadlessChromium {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        let env = ProcessInfo.processInfo.environment["INKWELL_CHROMIUM"].map { [$0] } ?? []
        guard let path = (env + candidates).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            let reason = "skipped: no Chromium found (apt-get install chromium, or set INKWELL_CHROMIUM)"
            print(reason)
            throw XCTSkip(reason)
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("inkwell-chromium-\(UUID().uuidString)")
        test.addTeardownBlock { try? FileManager.default.removeItem(at: profile) }
        return HeadlessChromium(executable: URL(fileURLWithPath: path), profile: profile)
    }

    struct Result {
        var stdout: String
        var stderr: String
        var status: Int32
        /// Console messages Chromium logged at error level, or uncaught exceptions, from stderr.
        var consoleErrors: [String] {
            stderr.split(separator: "\n").filter { line in
                line.contains(":CONSOLE") && (line.contains("Uncaught") || line.contains("ERROR:CONSOLE") || line.contains("Error"))
            }.map(String.init)
        }
    }

    /// Runs Chromium on `page` with `arguments` added; kills it after `timeout` seconds.
    func run(_ page: URL, _ arguments: [String], timeout: TimeInterval = 90) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--mute-audio",
            "--enable-logging=stderr", "--v=0", "--user-data-dir=\(profile.path)",
            "--virtual-time-budget=5000", "--allow-file-access-from-files",
        ] + arguments + [page.absoluteString]
        // Output goes to files (no pipe can fill up and stall the browser).
        let outURL = profile.appendingPathComponent("..").appendingPathComponent("\(profile.lastPathComponent)-stdout.txt").standardizedFileURL
        let errURL = profile.appendingPathComponent("..").appendingPathComponent("\(profile.lastPathComponent)-stderr.txt").standardizedFileURL
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("chromium ran past \(Int(timeout)) s on \(page.path)")
        }
        process.waitUntilExit()
        let stdoutData = (try? Data(contentsOf: outURL)) ?? Data()
        let stderrData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(stdout: String(decoding: stdoutData, as: UTF8.self), stderr: String(decoding: stderrData, as: UTF8.self),
                      status: process.terminationStatus)
    }

    /// The page's DOM after load (and 5 s of virtual time for scripts).
    func dumpDOM(_ page: URL) throws -> Result {
        try run(page, ["--dump-dom"])
    }

    /// A PNG screenshot of the page at `width` x `height` CSS pixels, written to `output`.
    func screenshot(_ page: URL, to output: URL, width: Int = 1280, height: Int = 2400) throws -> Result {
        try run(page, ["--screenshot=\(output.path)", "--window-size=\(width),\(height)"])
    }

    /// The value of attribute `name` on the `<html>` element of a dumped DOM, or nil.
    static func htmlAttribute(_ name: String, in dom: String) -> String? {
        guard let open = dom.range(of: "<html"), let close = dom[open.upperBound...].firstIndex(of: ">") else { return nil }
        let tag = dom[open.upperBound..<close]
        guard let start = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[start.upperBound...].prefix { $0 != "\"" })
    }
}
