import Foundation
import InkwellEngine
import InkwellNN

/// Runs the op cases of a golden set (`ops.json` + `ops.safetensors`, see
/// ../shared/golden/README.md) through the engine, forward and backward.
///
/// Nothing about the set is assumed beyond the schema: for case `C` with inputs `a, b, ...`,
/// `C.a`... are the inputs, `C.output` the reference output, `C.grad_output` the upstream
/// gradient G, and `C.grad_a`... the gradients of sum(output * G). Shapes come from the tensors,
/// settings from `attrs`. Every reference gradient present in the file is compared; batch norm's
/// running statistics and Adam's steps are compared too.
public enum GoldenOps: GoldenSuite {
    public static let suiteName = "ops"
    /// The relative L2 tolerance of every output and gradient (README: 1e-4).
    public static let defaultTolerance = 1e-4

    public static func isPresent(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("ops.json").path)
    }

    public static func run(directory: URL) throws -> [GoldenCaseResult] {
        try run(directory: directory, tolerance: defaultTolerance)
    }

    /// Every case of `directory/ops.json`, in file order. Throws when ops.json or ops.safetensors
    /// cannot be read; a case that cannot run (unknown op, missing tensor) is a failed result.
    public static func run(directory: URL, tolerance: Double) throws -> [GoldenCaseResult] {
        let jsonURL = directory.appendingPathComponent("ops.json")
        let tensorsURL = directory.appendingPathComponent("ops.safetensors")
        let jsonData: Data
        do { jsonData = try Data(contentsOf: jsonURL) } catch {
            throw GoldenError("\(jsonURL.path): cannot read: \(error.localizedDescription)")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: jsonData)) as? [String: Any] else {
            throw GoldenError("\(jsonURL.path): not a JSON object of cases")
        }
        let file = try SafeTensorsFile(contentsOf: tensorsURL)
        return orderedKeys(root, in: jsonData).map { name in
            guard let spec = root[name] as? [String: Any] else {
                return GoldenCaseResult(name: name, kind: "?", errors: [], failure: "\(jsonURL.lastPathComponent): case is not an object")
            }
            let op = spec["op"] as? String ?? "?"
            do {
                let golden = GoldenCase(name: name, spec: spec, file: file, tolerance: tolerance)
                return GoldenCaseResult(name: name, kind: op, errors: try golden.run())
            } catch {
                return GoldenCaseResult(name: name, kind: op, errors: [], failure: "\(error)")
            }
        }
    }

    /// Keys in the order they appear in the file (JSONSerialization loses it).
    private static func orderedKeys(_ root: [String: Any], in data: Data) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        func position(_ key: String) -> Int {
            let escaped = (try? JSONSerialization.data(withJSONObject: [key])).map { String(decoding: $0, as: UTF8.self) }
            let quoted = escaped.map { String($0.dropFirst().dropLast()) } ?? "\"\(key)\""
            guard let range = text.range(of: quoted + ":") ?? text.range(of: quoted) else { return Int.max }
            return text.distance(from: text.startIndex, to: range.lowerBound)
        }
        return root.keys.map { ($0, position($0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }
}

/// A problem running one case.
struct GoldenCaseError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One case of ops.json with access to its tensors.
private struct GoldenCase {
    let name: String
    let spec: [String: Any]
    let file: SafeTensorsFile
    let tolerance: Double

    var op: String { spec["op"] as? String ?? "" }
    var attrs: [String: Any] { spec["attrs"] as? [String: Any] ?? [:] }
    var inputNames: [String] { spec["inputs"] as? [String] ?? [] }

    func tensor(_ key: String) throws -> Tensor { try file.tensor("\(name).\(key)") }
    func has(_ key: String) -> Bool { file.contains("\(name).\(key)") }

    // MARK: attributes

    func number(_ key: String, default value: Double? = nil) throws -> Double {
        if let n = attrs[key] as? NSNumber { return n.doubleValue }
        if attrs[key] == nil, let value { return value }
        throw GoldenCaseError("attribute '\(key)' missing or not a number")
    }

    func flag(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = attrs[key] else { return value }
        if let b = raw as? Bool { return b }
        if let n = raw as? NSNumber { return n.boolValue }
        throw GoldenCaseError("attribute '\(key)' is not a boolean")
    }

    /// An int or a list of equal ints (square stride / padding).
    func square(_ key: String, default value: Int) throws -> Int {
        guard let raw = attrs[key] else { return value }
        if let n = raw as? NSNumber { return n.intValue }
        if let list = raw as? [NSNumber], let first = list.first, list.allSatisfy({ $0.intValue == first.intValue }) {
            return first.intValue
        }
        throw GoldenCaseError("attribute '\(key)' = \(raw): only one value for both axes is supported")
    }

    func reduction() throws -> String {
        let r = attrs["reduction"] as? String ?? "mean"
        guard r == "mean" || r == "sum" else { throw GoldenCaseError("reduction '\(r)' is not supported (mean, sum)") }
        return r
    }

    // MARK: running

    func run() throws -> [(tensor: String, error: Double, tolerance: Double)] {
        if op == "adam" { return try runAdam() }
        let inputs = try inputNames.map { input -> Tensor in
            let t = try tensor(input)
            t.requiresGrad = true
            return t
        }
        var extraChecks: [(String, Tensor, Tensor)] = []
        let output = try forward(inputs, extraChecks: &extraChecks)
        let reference = try tensor("output")
        var errors: [(tensor: String, error: Double, tolerance: Double)] = []
        func compare(_ label: String, _ mine: Tensor, _ ref: Tensor) throws {
            guard mine.shape == ref.shape || mine.count == ref.count && mine.count == 1 else {
                throw GoldenCaseError("\(label): shape \(Shape.describe(mine.shape)) vs reference \(Shape.describe(ref.shape))")
            }
            errors.append((label, relativeL2Error(mine.values, ref.values), tolerance))
        }
        try compare("output", output, reference)
        if let spec = spec["output_shape"] as? [NSNumber], spec.map(\.intValue) != reference.shape,
           !(spec.isEmpty && reference.count == 1) {
            throw GoldenCaseError("ops.json output_shape \(spec.map(\.intValue)) disagrees with \(name).output \(Shape.describe(reference.shape))")
        }
        let wanted = inputNames.indices.filter { has("grad_\(inputNames[$0])") }
        if !wanted.isEmpty, output.requiresGrad {
            let g = try tensor("grad_output")
            let seed = g.count == output.count ? Tensor(shape: output.shape, values: g.values) : g
            output.backward(seed)
        }
        for index in wanted {
            let label = "grad_\(inputNames[index])"
            let ref = try tensor(label)
            guard let grad = inputs[index].grad else {
                errors.append((label, .nan, tolerance))
                continue
            }
            try compare(label, grad, ref)
        }
        for (label, mine, ref) in extraChecks { try compare(label, mine, ref) }
        return errors
    }

    func input(_ inputs: [Tensor], _ names: [String]) -> Tensor? {
        for n in names { if let i = inputNames.firstIndex(of: n) { return inputs[i] } }
        return nil
    }

    func required(_ inputs: [Tensor], _ names: String...) throws -> Tensor {
        guard let t = input(inputs, names) else {
            throw GoldenCaseError("op \(op) needs an input named \(names.joined(separator: " or ")); inputs are \(inputNames)")
        }
        return t
    }

    /// The engine's forward for this case; extra reference comparisons (running statistics)
    /// go to `extraChecks`.
    func forward(_ inputs: [Tensor], extraChecks: inout [(String, Tensor, Tensor)]) throws -> Tensor {
        func first() throws -> Tensor {
            guard let x = inputs.first else { throw GoldenCaseError("op \(op) needs an input") }
            return x
        }
        switch op {
        case "conv2d", "conv_transpose2d":
            return try convolution(inputs)
        case "reflection_pad2d":
            let padding: Padding2D
            if let list = attrs["pad"] as? [NSNumber], list.count == 4 {
                // PyTorch's order: (left, right, top, bottom).
                padding = Padding2D(left: list[0].intValue, right: list[1].intValue, top: list[2].intValue, bottom: list[3].intValue)
            } else {
                padding = Padding2D(try square("pad", default: 0))
            }
            return reflectionPad2d(try first(), padding)
        case "linear":
            guard inputs.count >= 2 else { throw GoldenCaseError("linear needs inputs x, w[, b]") }
            return linear(inputs[0], weight: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil)
        case "relu": return try first().relu()
        case "leaky_relu": return try first().leakyRelu(slope: Float(try number("slope", default: 0.01)))
        case "tanh": return try first().tanh()
        case "sigmoid": return try first().sigmoid()
        case "exp": return try first().exp()
        case "log": return try first().log()
        case "clamp":
            return try first().clamped(min: Float(try number("min", default: -.infinity)), max: Float(try number("max", default: .infinity)))
        case "instance_norm2d":
            guard try !flag("affine", default: false) else { throw GoldenCaseError("affine instance norm is not supported") }
            return instanceNorm2d(try first(), eps: Float(try number("eps", default: 1e-5)))
        case "batch_norm2d":
            return try batchNorm(try first(), inputs, extraChecks: &extraChecks)
        case "binary_cross_entropy":
            let p = try first()
            let loss = binaryCrossEntropy(p, target: Float(try number("target")))
            return try reduction() == "sum" ? loss * Float(p.count) : loss
        case "mse_loss":
            guard inputs.count == 2 else { throw GoldenCaseError("mse_loss needs two inputs") }
            let loss = mseLoss(inputs[0], inputs[1])
            return try reduction() == "sum" ? loss * Float(inputs[0].count) : loss
        case "kld_batch":
            return kldBatch(try first())
        case "kld_per_sample":
            return kldPerSample(mu: try required(inputs, "mu"), logvar: try required(inputs, "logvar"))
        case "reparameterize":
            return reparameterize(mu: try required(inputs, "mu"), logvar: try required(inputs, "logvar"),
                                  eps: try required(inputs, "eps"), logvarMax: Float(try number("logvar_max", default: 20)))
        default:
            throw GoldenCaseError("unknown op '\(op)'")
        }
    }

    /// conv2d or conv_transpose2d over inputs x, w[, b], with PyTorch's attributes.
    private func convolution(_ inputs: [Tensor]) throws -> Tensor {
        guard inputs.count >= 2 else { throw GoldenCaseError("\(op) needs inputs x, w[, b]") }
        let hasBias = try flag("bias", default: inputs.count > 2)
        guard hasBias == (inputs.count > 2) else { throw GoldenCaseError("attrs bias=\(hasBias) but inputs are \(inputNames)") }
        let (stride, padding) = (try square("stride", default: 1), try square("padding", default: 0))
        if op == "conv2d" {
            guard try square("dilation", default: 1) == 1, try square("groups", default: 1) == 1 else {
                throw GoldenCaseError("dilation and groups other than 1 are not supported")
            }
            return conv2d(inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, stride: stride, padding: padding)
        }
        guard try square("output_padding", default: 0) == 0 else { throw GoldenCaseError("output_padding is not supported") }
        return convTranspose2d(inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, stride: stride, padding: padding)
    }

    /// batch_norm2d in training mode (with the running statistics' updates checked when the case
    /// has them) or evaluation mode.
    private func batchNorm(_ x: Tensor, _ inputs: [Tensor], extraChecks: inout [(String, Tensor, Tensor)]) throws -> Tensor {
        let gamma = input(inputs, ["gamma", "weight"]), beta = input(inputs, ["beta", "bias"])
        let eps = Float(try number("eps", default: 1e-5))
        guard try flag("training", default: true) else {
            let running = RunningStatistics(mean: try tensor("running_mean"), variance: try tensor("running_var"))
            return batchNorm2d(x, weight: gamma, bias: beta, running: running, training: false, eps: eps)
        }
        let momentum = Float(try number("momentum", default: 0.1))
        guard has("running_mean_before") == has("running_var_before") else {
            throw GoldenCaseError("needs both running_mean_before and running_var_before, or neither")
        }
        var running: RunningStatistics?
        if has("running_mean_before") {
            running = RunningStatistics(mean: try tensor("running_mean_before"), variance: try tensor("running_var_before"), momentum: momentum)
        }
        let out = batchNorm2d(x, weight: gamma, bias: beta, running: running, training: true, eps: eps)
        if let running {
            for (key, t) in [("running_mean_after", running.mean), ("running_var_after", running.variance)] where has(key) {
                extraChecks.append((key, t, try tensor(key)))
            }
        }
        return out
    }

    /// Adam: `param_before`, then for step i `grad_i` giving `param_after_i`.
    func runAdam() throws -> [(tensor: String, error: Double, tolerance: Double)] {
        let steps = Int(try number("steps", default: nil))
        let parameter = try tensor("param_before")
        parameter.requiresGrad = true
        let adam = Adam(parameters: [parameter], learningRate: Float(try number("lr")), beta1: Float(try number("beta1", default: 0.9)),
                        beta2: Float(try number("beta2", default: 0.999)), eps: Float(try number("eps", default: 1e-8)))
        guard try number("weight_decay", default: 0) == 0, try !flag("amsgrad", default: false) else {
            throw GoldenCaseError("weight decay and amsgrad are not supported")
        }
        var errors: [(tensor: String, error: Double, tolerance: Double)] = []
        for step in 0..<steps {
            parameter.grad = try tensor("grad_\(step)")
            adam.step()
            let ref = try tensor("param_after_\(step)")
            guard ref.shape == parameter.shape else {
                throw GoldenCaseError("param_after_\(step) \(Shape.describe(ref.shape)) vs param_before \(Shape.describe(parameter.shape))")
            }
            errors.append(("param_after_\(step)", relativeL2Error(parameter.values, ref.values), tolerance))
        }
        return errors
    }
}
