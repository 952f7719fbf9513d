import Foundation
import XCTest
import InkwellEngine
@testable import InkwellNN
import InkwellTestSupport

/// A module tree shaped like the reference encoder: `convs` is a Sequential of blocks
/// [ReflectionPad2d, Conv2d, BatchNorm2d, ReLU], then a linear `map`.
final class TinyEncoder: Module {
    let convs: Sequential
    let map: Linear

    convenience init(channels: [Int] = [3, 4, 5], seed: UInt64 = 0) {
        var generator = RandomGenerator(seed: seed)
        self.init(channels: channels, using: &generator)
    }

    init(channels: [Int], using generator: inout RandomGenerator) {
        convs = Sequential((0..<(channels.count - 1)).map { i in
            Sequential(ReflectionPad2d(2), Conv2d(channels[i], channels[i + 1], kernelSize: 5, stride: 2, bias: false, using: &generator),
                       BatchNorm2d(channels[i + 1]), ReLU()) as any UnaryLayer
        })
        map = Linear(6, 4, using: &generator)
    }
}

final class SafeTensorsTests: XCTestCase {
    // MARK: Names

    func testModuleNamesFollowPyTorch() {
        let model = TinyEncoder()
        let names = model.stateItems().map(\.0)
        XCTAssertEqual(names, [
            "convs.0.1.weight",
            "convs.0.2.weight", "convs.0.2.bias", "convs.0.2.running_mean", "convs.0.2.running_var", "convs.0.2.num_batches_tracked",
            "convs.1.1.weight",
            "convs.1.2.weight", "convs.1.2.bias", "convs.1.2.running_mean", "convs.1.2.running_var", "convs.1.2.num_batches_tracked",
            "map.weight", "map.bias",
        ])
        XCTAssertEqual(model.namedParameters().map(\.0), [
            "convs.0.1.weight", "convs.0.2.weight", "convs.0.2.bias",
            "convs.1.1.weight", "convs.1.2.weight", "convs.1.2.bias", "map.weight", "map.bias",
        ])
        XCTAssertEqual(model.namedBuffers().map(\.0), [
            "convs.0.2.running_mean", "convs.0.2.running_var", "convs.1.2.running_mean", "convs.1.2.running_var",
        ])
        XCTAssertEqual(model.parameterCount, 4 * 3 * 25 + 8 + 5 * 4 * 25 + 10 + 24 + 4)
    }

    // MARK: Round trips

    func testTensorRoundTripKeepsValuesShapesAndMetadata() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("t.safetensors")
        let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, .pi, -0, 1e-30])
        let scalar = Tensor(scalar: 7)
        let empty = Tensor(zeros: [0, 4])
        try SafeTensors.write([("a", a), ("s", scalar), ("e", empty)], to: url, metadata: ["format": "pt"])
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.names, ["a", "e", "s"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(try file.tensor("a").values, a.values)
        XCTAssertEqual(try file.tensor("a").shape, [2, 3])
        XCTAssertEqual(try file.tensor("s").shape, [])
        XCTAssertEqual(try file.tensor("e").shape, [0, 4])
        // The data section starts 8-byte aligned.
        let raw = try Data(contentsOf: url)
        let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0)
    }

    func testModuleStateRoundTripIntoAFreshModule() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("model.safetensors")
        let source = TinyEncoder(seed: 1)
        // Make the buffers and counters non-default: two training-mode batches.
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<2 { _ = source.convs(Tensor.randn([2, 3, 9, 9], using: &generator)) }
        try source.saveState(to: url)

        let target = TinyEncoder(seed: 2)
        XCTAssertNotEqual(target.stateTensors()[0].1.values, source.stateTensors()[0].1.values)
        let optimizerView = target.parameters   // identity must survive loading
        try target.loadState(from: url)
        for ((n1, t1), (n2, t2)) in zip(source.stateTensors(), target.stateTensors()) {
            XCTAssertEqual(n1, n2)
            XCTAssertEqual(t1.values, t2.values, n1)
            XCTAssertEqual(t1.requiresGrad, t2.requiresGrad, n1)
        }
        XCTAssertEqual(target.stateCounters().map(\.1), [2, 2])
        XCTAssertTrue(zip(optimizerView, target.parameters).allSatisfy { $0 === $1 })

        // The counter is stored as an I64 scalar, as in PyTorch's state_dict.
        let file = try SafeTensorsFile(contentsOf: url)
        let counter = try file.entry("convs.0.2.num_batches_tracked")
        XCTAssertEqual(counter.dtype, .i64)
        XCTAssertEqual(counter.shape, [])
        XCTAssertEqual(try file.integers("convs.0.2.num_batches_tracked"), [2])
    }

    func testPrefixedStateLoadsFromALargerFile() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("both.safetensors")
        let a = TinyEncoder(seed: 1), b = TinyEncoder(seed: 2)
        XCTAssertNotEqual(a.stateTensors()[0].1.values, b.stateTensors()[0].1.values)
        let items = a.stateItems().map { ("vae.encoder." + $0.0, $0.1) } + [("other.x", .float(Tensor(zeros: [1])))]
        try SafeTensors.write(items: items, to: url)
        try b.loadState(from: url, prefix: "vae.encoder.")
        XCTAssertEqual(a.stateTensors().map(\.1.values), b.stateTensors().map(\.1.values))
    }

    // MARK: Errors name the file and the tensor

    private func expectError(_ body: () throws -> Void, file: String, tensor: String?, reason: String,
                             line: UInt = #line) {
        do {
            try body()
            XCTFail("expected an error containing '\(reason)'", line: line)
        } catch let error as SafeTensorsError {
            XCTAssertTrue(error.file.hasSuffix(file), "\(error)", line: line)
            XCTAssertEqual(error.tensor, tensor, "\(error)", line: line)
            XCTAssertTrue(error.reason.contains(reason), "\(error)", line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", line: line)
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }

    private func writeRaw(_ dir: URL, _ name: String, header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> URL {
        var bytes = [UInt8]()
        let h = Array(header.utf8)
        let length = lengthOverride ?? UInt64(h.count)
        for i in 0..<8 { bytes.append(UInt8((length >> (8 * UInt64(i))) & 0xFF)) }
        bytes += h + data
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func testMalformedFilesGiveClearErrors() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let tiny = try writeRaw(dir, "tiny.safetensors", header: "", data: [1, 2])
        try Data([1, 2, 3]).write(to: tiny)
        expectError({ _ = try SafeTensorsFile(contentsOf: tiny) }, file: "tiny.safetensors", tensor: nil, reason: "truncated")

        let long = try writeRaw(dir, "long.safetensors", header: "{}", data: [], lengthOverride: 1000)
        expectError({ _ = try SafeTensorsFile(contentsOf: long) }, file: "long.safetensors", tensor: nil, reason: "truncated: header says 1000")

        let notJSON = try writeRaw(dir, "bad.safetensors", header: "{not json", data: [])
        expectError({ _ = try SafeTensorsFile(contentsOf: notJSON) }, file: "bad.safetensors", tensor: nil, reason: "bad header")

        let dtype = try writeRaw(dir, "dtype.safetensors", header: #"{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0])
        expectError({ _ = try SafeTensorsFile(contentsOf: dtype) }, file: "dtype.safetensors", tensor: "w", reason: "unsupported dtype F8_E4M3")

        let size = try writeRaw(dir, "size.safetensors", header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
        expectError({ _ = try SafeTensorsFile(contentsOf: size) }, file: "size.safetensors", tensor: "w", reason: "needs 12 bytes")

        let cut = try writeRaw(dir, "cut.safetensors", header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 10))
        expectError({ _ = try SafeTensorsFile(contentsOf: cut) }, file: "cut.safetensors", tensor: "w", reason: "truncated")

        let overlap = try writeRaw(dir, "overlap.safetensors",
                                   header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                   data: Array(repeating: 0, count: 12))
        expectError({ _ = try SafeTensorsFile(contentsOf: overlap) }, file: "overlap.safetensors", tensor: "b", reason: "overlaps")

        let missingFile = dir.appendingPathComponent("absent.safetensors")
        expectError({ _ = try SafeTensorsFile(contentsOf: missingFile) }, file: "absent.safetensors", tensor: nil, reason: "cannot read")
    }

    func testStateMismatchesGiveClearErrors() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let model = TinyEncoder()
        var items = model.stateItems()

        let missingURL = dir.appendingPathComponent("missing.safetensors")
        try SafeTensors.write(items: items.filter { $0.0 != "convs.1.2.running_var" }, to: missingURL)
        expectError({ try TinyEncoder().loadState(from: missingURL) }, file: "missing.safetensors", tensor: "convs.1.2.running_var", reason: "missing")

        let unknownURL = dir.appendingPathComponent("unknown.safetensors")
        try SafeTensors.write(items: items + [("convs.9.weight", .float(Tensor(zeros: [1])))], to: unknownURL)
        expectError({ try TinyEncoder().loadState(from: unknownURL) }, file: "unknown.safetensors", tensor: "convs.9.weight", reason: "unknown")
        XCTAssertNoThrow(try TinyEncoder().loadState(from: unknownURL, options: StateLoadOptions(allowUnknown: true)))

        let shapeURL = dir.appendingPathComponent("shape.safetensors")
        items[0] = ("convs.0.1.weight", .float(Tensor(zeros: [4, 3, 3, 3])))
        try SafeTensors.write(items: items, to: shapeURL)
        let victim = TinyEncoder()
        let before = victim.stateTensors().map(\.1.values)
        expectError({ try victim.loadState(from: shapeURL) }, file: "shape.safetensors", tensor: "convs.0.1.weight",
                    reason: "shape [4, 3, 3, 3] does not match the module's [4, 3, 5, 5]")
        XCTAssertEqual(victim.stateTensors().map(\.1.values), before, "a failed load modifies nothing")

        let noCounterURL = dir.appendingPathComponent("nocounter.safetensors")
        try SafeTensors.write(items: model.stateItems().filter { !$0.0.hasSuffix("num_batches_tracked") }, to: noCounterURL)
        // Every problem in one error.
        expectError({ try TinyEncoder().loadState(from: noCounterURL) }, file: "nocounter.safetensors", tensor: nil,
                    reason: "does not fit the model (2 problems): 'convs.0.2.num_batches_tracked' missing (counter); 'convs.1.2.num_batches_tracked' missing (counter)")
        XCTAssertNoThrow(try TinyEncoder().loadState(from: noCounterURL, options: StateLoadOptions(allowMissingCounters: true)))
    }

    // MARK: Other dtypes

    func testReadsF64F16BF16AndIntegersAsFloat() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        var data = [UInt8]()
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { data += $0 } }
        for v in [1.5, -2.25] as [Double] { append(v.bitPattern.littleEndian) }      // F64 [0, 16)
        for bits in [0x3C00, 0xC500, 0x0001] as [UInt16] { append(bits.littleEndian) } // F16 1, -5, 2^-24 [16, 22)
        for bits in [0x3FC0, 0xC000] as [UInt16] { append(bits.littleEndian) }      // BF16 1.5, -2 [22, 26)
        for v in [7, -3] as [Int64] { append(v.littleEndian) }                      // I64 [26, 42)
        for v in [9] as [Int32] { append(v.littleEndian) }                          // I32 [42, 46)
        let header = """
        {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},\
        "b":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]},"l":{"dtype":"I64","shape":[2],"data_offsets":[26,42]},\
        "i":{"dtype":"I32","shape":[1],"data_offsets":[42,46]},"__metadata__":{"format":"pt"}}
        """
        let url = try writeRaw(dir, "types.safetensors", header: header, data: data)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.tensor("d").values, [1.5, -2.25])
        XCTAssertEqual(try file.tensor("h").values, [1, -5, 0x1p-24])
        XCTAssertEqual(try file.tensor("b").values, [1.5, -2])
        XCTAssertEqual(try file.tensor("l").values, [7, -3])
        XCTAssertEqual(try file.integers("l"), [7, -3])
        XCTAssertEqual(try file.integers("i"), [9])
        expectError({ _ = try file.integers("d") }, file: "types.safetensors", tensor: "d", reason: "non-integer")
        expectError({ _ = try file.tensor("zz") }, file: "types.safetensors", tensor: "zz", reason: "missing")
        expectError({ _ = try file.tensor("d", shape: [3]) }, file: "types.safetensors", tensor: "d", reason: "does not match the expected [3]")
    }

    // MARK: The reference implementation reads what Inkwell writes

    func testPythonSafetensorsLoadsInkwellState() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        let url = dir.appendingPathComponent("model.safetensors")
        let model = TinyEncoder()
        try model.saveState(to: url, prefix: "vae.encoder.")
        let script = """
        import sys, json
        try:
            from safetensors.numpy import load_file
        except ImportError as e:
            print("SKIP", e); sys.exit(3)
        d = load_file(sys.argv[1])
        print(json.dumps({k: [str(v.dtype), list(v.shape), float(v.astype('float64').sum())] for k, v in d.items()}))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            let reason = "skipped: python3 not runnable (\(error)); torch is not installable here either"
            print(reason)
            throw XCTSkip(reason)
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 3 || process.terminationStatus == 127 {
            let reason = "skipped: python3 with the safetensors package is not available (\(output.trimmingCharacters(in: .whitespacesAndNewlines))); `pip install safetensors` enables this check"
            print(reason)
            throw XCTSkip(reason)
        }
        XCTAssertEqual(process.terminationStatus, 0, output)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [Any]])
        let expected = model.stateItems()
        XCTAssertEqual(Set(parsed.keys), Set(expected.map { "vae.encoder." + $0.0 }))
        for (name, item) in expected {
            let entry = try XCTUnwrap(parsed["vae.encoder." + name], name)
            switch item {
            case .float(let t):
                XCTAssertEqual(entry[0] as? String, "float32", name)
                XCTAssertEqual((entry[1] as? [NSNumber])?.map(\.intValue), t.shape, name)
                XCTAssertEqual((entry[2] as? NSNumber)?.doubleValue ?? .nan, t.values.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-4, name)
            case .int64(let shape, let values):
                XCTAssertEqual(entry[0] as? String, "int64", name)
                XCTAssertEqual((entry[1] as? [NSNumber])?.map(\.intValue), shape, name)
                XCTAssertEqual((entry[2] as? NSNumber)?.doubleValue, Double(values[0]), name)
            }
        }
    }
}
