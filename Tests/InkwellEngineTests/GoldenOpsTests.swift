import Foundation
import XCTest
import InkwellEngine
import InkwellNN
import InkwellGolden
import InkwellTestSupport

/// The golden runner on PyTorch's set, on modified copies of it (renamed and reordered cases, a
/// subset, corrupted values), and on a set of other shapes whose references this test computes
/// itself in double precision with direct loops (no im2col, no BLAS).
final class GoldenOpsTests: XCTestCase {
    func testSharedGoldenOpsAllPass() throws {
        let json = try SharedFixtures.require("golden/ops.json")
        let directory = json.deletingLastPathComponent()
        let results = try GoldenOps.run(directory: directory)
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        XCTAssertEqual(Set(results.map(\.name)), Set(cases.keys))
        for result in results {
            print(result.summaryLine)
            XCTAssertTrue(result.passed, result.summaryLine)
            XCTAssertFalse(result.errors.isEmpty, result.name)
        }
        // Every reference gradient in the file was compared.
        let adam = try XCTUnwrap(results.first { $0.name == "adam" })
        XCTAssertEqual(adam.errors.count, 3)
        let conv = try XCTUnwrap(results.first { $0.name == "conv2d_s1_bias" })
        XCTAssertEqual(conv.errors.map(\.tensor), ["output", "grad_x", "grad_w", "grad_b"])
        let bn = try XCTUnwrap(results.first { $0.name == "batch_norm2d_train" })
        XCTAssertTrue(bn.errors.map(\.tensor).contains("running_var_after"))
    }

    /// A copy with every case renamed, in another order, and only half of them: the runner reads
    /// the names and shapes from the files.
    func testRenamedReorderedSubsetPasses() throws {
        let json = try SharedFixtures.require("golden/ops.json")
        let source = json.deletingLastPathComponent()
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("ops.safetensors"))
        let kept = cases.keys.sorted().enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        var newCases: [String: Any] = [:]
        var items: [(String, Tensor)] = []
        for name in kept.reversed() {
            let renamed = "copy_of_\(name)"
            newCases[renamed] = cases[name]
            for tensor in file.names where tensor.hasPrefix(name + ".") {
                items.append((renamed + tensor.dropFirst(name.count), try file.tensor(tensor)))
            }
        }
        let dir = try SharedFixtures.temporaryDirectory(self)
        try JSONSerialization.data(withJSONObject: newCases, options: [.prettyPrinted]).write(to: dir.appendingPathComponent("ops.json"))
        try SafeTensors.write(items.shuffled(), to: dir.appendingPathComponent("ops.safetensors"))
        let results = try GoldenOps.run(directory: dir)
        XCTAssertEqual(Set(results.map(\.name)), Set(kept.map { "copy_of_\($0)" }))
        for result in results { XCTAssertTrue(result.passed, result.summaryLine) }
    }

    /// The runner can fail: a perturbed reference gradient, an unknown op and a missing tensor
    /// each fail their case (and only theirs), naming what went wrong.
    func testCorruptedCopyFails() throws {
        let json = try SharedFixtures.require("golden/ops.json")
        let source = json.deletingLastPathComponent()
        var cases = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("ops.safetensors"))
        var items: [(String, Tensor)] = []
        for name in file.names where name != "relu.grad_x" {
            let t = try file.tensor(name)
            if name == "conv2d_s1_bias.grad_w" { t.pointer[3] += 1e-2 * max(abs(t.pointer[3]), 0.1) * 10 }
            items.append((name, t))
        }
        var tanh = cases["tanh"] as! [String: Any]
        tanh["op"] = "tanhh"
        cases["tanh"] = tanh
        let dir = try SharedFixtures.temporaryDirectory(self)
        try JSONSerialization.data(withJSONObject: cases).write(to: dir.appendingPathComponent("ops.json"))
        try SafeTensors.write(items, to: dir.appendingPathComponent("ops.safetensors"))
        let results = try GoldenOps.run(directory: dir)
        let failed = results.filter { !$0.passed }
        XCTAssertEqual(Set(failed.map(\.name)), ["conv2d_s1_bias", "tanh"], failed.map(\.summaryLine).joined(separator: "\n"))
        let conv = try XCTUnwrap(failed.first { $0.name == "conv2d_s1_bias" })
        XCTAssertEqual(conv.worstTensor, "grad_w")
        XCTAssertGreaterThan(conv.worstError, 1e-4)
        XCTAssertTrue(conv.summaryLine.hasPrefix("FAIL"))
        XCTAssertTrue(failed.first { $0.name == "tanh" }!.failure!.contains("unknown op 'tanhh'"))
        // relu lost its reference gradient: only the output is compared, and it still passes.
        let relu = try XCTUnwrap(results.first { $0.name == "relu" })
        XCTAssertEqual(relu.errors.map(\.tensor), ["output"])
    }

    func testMissingFilesThrowNamingThePath() throws {
        let dir = try SharedFixtures.temporaryDirectory(self)
        XCTAssertThrowsError(try GoldenOps.run(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("ops.json"), "\(error)")
        }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("ops.json"))
        XCTAssertThrowsError(try GoldenOps.run(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("ops.safetensors"), "\(error)")
        }
    }

    // MARK: A second golden set, references computed here

    /// Cases with shapes and settings the shared set lacks (stride 3, padding, a non-square
    /// kernel, a stride-1 transposed conv with padding 1, other slopes), whose outputs and
    /// gradients are computed below by direct loops in double precision. Passing shows that the
    /// runner takes everything from the files and that the engine agrees with an independent
    /// implementation of the same definitions; it does not replace PyTorch's values.
    func testIndependentSetOfOtherShapesPasses() throws {
        var generator = RandomGenerator(seed: 42)
        func random(_ shape: [Int]) -> [Double] {
            (0..<Shape.count(shape)).map { _ in generator.nextUniform() * 2 - 1 }
        }
        var cases: [String: Any] = [:]
        var items: [(String, Tensor)] = []
        func add(_ name: String, op: String, attrs: [String: Any], inputs: [(String, [Int], [Double])],
                 output: ([Int], [Double]), gradOutput: [Double], grads: [[Double]]) {
            cases[name] = ["op": op, "attrs": attrs, "inputs": inputs.map(\.0), "output_shape": output.0]
            for (input, shape, values) in inputs { items.append(("\(name).\(input)", Tensor(shape: shape, values: values.map(Float.init)))) }
            items.append(("\(name).output", Tensor(shape: output.0, values: output.1.map(Float.init))))
            items.append(("\(name).grad_output", Tensor(shape: output.0, values: gradOutput.map(Float.init))))
            for ((input, shape, _), g) in zip(inputs, grads) {
                items.append(("\(name).grad_\(input)", Tensor(shape: shape, values: g.map(Float.init))))
            }
        }

        // conv2d: N=2, C=2, 7x8, O=3, kernel 2x3, stride 3, padding 1, bias.
        do {
            let (n, c, h, w, o, kh, kw, s, p) = (2, 2, 7, 8, 3, 2, 3, 3, 1)
            let oh = (h + 2 * p - kh) / s + 1, ow = (w + 2 * p - kw) / s + 1
            let x = random([n, c, h, w]), wt = random([o, c, kh, kw]), b = random([o])
            let g = random([n, o, oh, ow])
            var y = [Double](repeating: 0, count: n * o * oh * ow)
            var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: wt.count)
            var gb = [Double](repeating: 0, count: o)
            for i in 0..<n { for oc in 0..<o { for yy in 0..<oh { for xx in 0..<ow {
                let yi = ((i * o + oc) * oh + yy) * ow + xx
                var acc = b[oc]
                gb[oc] += g[yi]
                for ic in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
                    let iy = yy * s + ki - p, ix = xx * s + kj - p
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let xi = ((i * c + ic) * h + iy) * w + ix, wi = ((oc * c + ic) * kh + ki) * kw + kj
                    acc += x[xi] * wt[wi]
                    gx[xi] += g[yi] * wt[wi]
                    gw[wi] += g[yi] * x[xi]
                } } }
                y[yi] = acc
            } } } }
            add("conv_s3_p1_k2x3", op: "conv2d", attrs: ["stride": 3, "padding": [1, 1], "bias": true],
                inputs: [("x", [n, c, h, w], x), ("w", [o, c, kh, kw], wt), ("b", [o], b)],
                output: ([n, o, oh, ow], y), gradOutput: g, grads: [gx, gw, gb])
        }

        // conv_transpose2d: N=2, Cin=3, 4x5, Cout=2, kernel 3, stride 1, padding 1 (scatter form).
        do {
            let (n, ci, h, w, co, k, s, p) = (2, 3, 4, 5, 2, 3, 1, 1)
            let oh = (h - 1) * s - 2 * p + k, ow = (w - 1) * s - 2 * p + k
            let x = random([n, ci, h, w]), wt = random([ci, co, k, k]), g = random([n, co, oh, ow])
            var y = [Double](repeating: 0, count: n * co * oh * ow)
            var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: wt.count)
            for i in 0..<n { for ic in 0..<ci { for iy in 0..<h { for ix in 0..<w {
                let xi = ((i * ci + ic) * h + iy) * w + ix
                for oc in 0..<co { for ki in 0..<k { for kj in 0..<k {
                    let oy = iy * s + ki - p, ox = ix * s + kj - p
                    guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                    let yi = ((i * co + oc) * oh + oy) * ow + ox, wi = ((ic * co + oc) * k + ki) * k + kj
                    y[yi] += x[xi] * wt[wi]
                    gx[xi] += g[yi] * wt[wi]
                    gw[wi] += g[yi] * x[xi]
                } } }
            } } } }
            add("deconv_s1_p1", op: "conv_transpose2d", attrs: ["stride": 1, "padding": 1, "bias": false],
                inputs: [("x", [n, ci, h, w], x), ("w", [ci, co, k, k], wt)],
                output: ([n, co, oh, ow], y), gradOutput: g, grads: [gx, gw])
        }

        // linear 4 -> 6 on a batch of 5.
        do {
            let (n, i, o) = (5, 4, 6)
            let x = random([n, i]), wt = random([o, i]), b = random([o]), g = random([n, o])
            var y = [Double](repeating: 0, count: n * o), gx = [Double](repeating: 0, count: n * i)
            var gw = [Double](repeating: 0, count: o * i), gb = [Double](repeating: 0, count: o)
            for r in 0..<n { for c in 0..<o {
                var acc = b[c]
                for k in 0..<i { acc += x[r * i + k] * wt[c * i + k]; gx[r * i + k] += g[r * o + c] * wt[c * i + k]; gw[c * i + k] += g[r * o + c] * x[r * i + k] }
                y[r * o + c] = acc
                gb[c] += g[r * o + c]
            } }
            add("linear_5x4x6", op: "linear", attrs: [:], inputs: [("x", [n, i], x), ("w", [o, i], wt), ("b", [o], b)],
                output: ([n, o], y), gradOutput: g, grads: [gx, gw, gb])
        }

        // leaky relu with slope 0.2; mse (mean) of two (3, 7) tensors.
        do {
            let x = random([2, 9]).map { $0 + ($0 >= 0 ? 0.01 : -0.01) }, g = random([2, 9])
            add("leaky_0.2", op: "leaky_relu", attrs: ["slope": 0.2], inputs: [("x", [2, 9], x)],
                output: ([2, 9], x.map { $0 > 0 ? $0 : 0.2 * $0 }), gradOutput: g,
                grads: [zip(x, g).map { $0 > 0 ? $1 : 0.2 * $1 }])
            let a = random([3, 7]), b = random([3, 7]), gs = 0.7
            let mse = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 21
            add("mse_3x7", op: "mse_loss", attrs: ["reduction": "mean"], inputs: [("a", [3, 7], a), ("b", [3, 7], b)],
                output: ([], [mse]), gradOutput: [gs],
                grads: [zip(a, b).map { gs * 2 * ($0 - $1) / 21 }, zip(a, b).map { -gs * 2 * ($0 - $1) / 21 }])
        }

        let dir = try SharedFixtures.temporaryDirectory(self)
        try JSONSerialization.data(withJSONObject: cases).write(to: dir.appendingPathComponent("ops.json"))
        try SafeTensors.write(items, to: dir.appendingPathComponent("ops.safetensors"))
        let results = try GoldenOps.run(directory: dir)
        XCTAssertEqual(results.count, 5)
        for result in results {
            XCTAssertTrue(result.passed, result.summaryLine)
            XCTAssertGreaterThanOrEqual(result.errors.count, 2, result.name)
        }
    }
}
