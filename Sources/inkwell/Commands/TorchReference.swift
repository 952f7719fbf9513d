import Foundation

/// ../shared/bench/torch_reference.py, the PyTorch model and step that `bench train` and
/// `bench infer` run beside Inkwell (same batch and threads, same invocation) where python3 with
/// torch is installed.
enum TorchReference {
    /// The script beside the package (found from this source file, the working directory, or
    /// INKWELL_SHARED), or nil.
    static func find() -> String? {
        var candidates: [URL] = []
        if let shared = ProcessInfo.processInfo.environment["INKWELL_SHARED"] { candidates.append(URL(fileURLWithPath: shared)) }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                candidates.append(dir.deletingLastPathComponent().appendingPathComponent("shared"))
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent().appendingPathComponent("shared"))
        return candidates.map { $0.appendingPathComponent("bench/torch_reference.py").path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Runs the script and returns the JSON it prints last, or nil with a printed reason when
    /// python3 with torch, the script, or its output is missing.
    static func run(script explicit: String?, batch: Int, steps: Int, threads: Int) -> [String: Any]? {
        guard shell(["python3", "-c", "import torch"]).status == 0 else {
            print("PyTorch: not available here (python3 -c \"import torch\" failed; `pip install torch` into the python3 on PATH enables the comparison), comparison skipped")
            return nil
        }
        guard let script = explicit ?? find() else {
            print("PyTorch: torch_reference.py not found (pass --torch-reference PATH), comparison skipped")
            return nil
        }
        print("running \(script) --batch \(batch) --steps \(steps) --threads \(threads) ...")
        let result = shell(["python3", script, "--batch", "\(batch)", "--steps", "\(steps)", "--threads", "\(threads)"])
        guard result.status == 0, let line = result.output.split(separator: "\n").last,
              let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            print("PyTorch: torch_reference.py failed (exit \(result.status)): \(result.output.suffix(300))")
            return nil
        }
        return json
    }

    /// Runs a command through /usr/bin/env, returning its exit status and combined output.
    static func shell(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// This process's resource use, for the benchmark commands.
enum ProcessUsage {
    /// Peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB).
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576
        #endif
    }

    /// User plus system CPU seconds so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
