import Foundation
import Yams

/// State while validating one pipeline file: collected diagnostics, variables, and the checks of
/// parameter values, strategies and input references.
struct ValidationContext {
    let file: URL
    let registry: StageRegistry
    var diagnostics: [PipelineDiagnostic] = []
    var variables: [String: SourceNode] = [:]

    init(file: URL, registry: StageRegistry) {
        self.file = file
        self.registry = registry
    }

    func diagnostic(_ location: SourceLocation, _ message: String) -> PipelineDiagnostic {
        PipelineDiagnostic(file: location.file, line: location.line, column: location.column, message: message)
    }

    mutating func error(_ location: SourceLocation, _ message: String) {
        let d = diagnostic(location, message)
        if !diagnostics.contains(d) { diagnostics.append(d) }
    }

    func resolvePath(_ path: String) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        return file.deletingLastPathComponent().appendingPathComponent(expanded).standardizedFileURL
    }

    /// Replaces `${name}` in a scalar. A scalar that is exactly `${name}` takes the variable's
    /// typed value; otherwise the variable's text is spliced in. Nil (with a diagnostic) when a
    /// variable is unknown or has no value. Collections are returned unchanged.
    mutating func substitute(_ node: SourceNode) -> SourceNode? {
        guard case .scalar(let text, let tag, let quoted, let location) = node, text.contains("${") else { return node }
        var result = ""
        var rest = Substring(text)
        var whole: SourceNode?
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                error(location, "unterminated '${' in '\(text)'")
                return nil
            }
            let name = String(rest[open.upperBound..<close])
            let offset = text.distance(from: text.startIndex, to: open.lowerBound) + (quoted ? 1 : 0)
            let at = SourceLocation(file: location.file, line: location.line, column: location.line > 0 ? location.column + offset : 0)
            guard let value = variables[name] else {
                error(at, "unknown variable '\(name)'\(NameSuggestion.hint(for: name, in: Array(variables.keys))) (define it under 'vars:')")
                return nil
            }
            if value.isNull {
                error(at, "variable '\(name)' has no value; give one with --set \(name)=VALUE")
                return nil
            }
            if open.lowerBound == text.startIndex && rest.index(after: close) == rest.endIndex && result.isEmpty {
                whole = value
            }
            result += value.text ?? ""
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        if let whole, case .scalar(let t, let g, let q, _) = whole { return .scalar(t, g, quoted: q, location) }
        return .scalar(result, tag == .null ? .str : .str, quoted: true, location)
    }

    /// Checks a `params:` mapping against declared parameters; fills in defaults. Nil when a
    /// problem was reported.
    mutating func resolveParameters(_ node: SourceNode?, specs: [ParameterSpec], owner: String, ownerLocation: SourceLocation) -> ResolvedParameters? {
        var values: [String: JSONValue] = [:]
        var ok = true
        let names = specs.map(\.name)
        var given: [String: SourceNode] = [:]
        if let node, !node.isNull {
            if let pairs = node.pairs {
                for (key, value) in pairs {
                    let name = key.text ?? ""
                    if given[name] != nil {
                        error(key.location, "parameter '\(name)' of \(owner) is given twice"); ok = false; continue
                    }
                    guard specs.contains(where: { $0.name == name }) else {
                        let list = names.isEmpty ? "it takes no parameters" : "its parameters are \(names.joined(separator: ", "))"
                        error(key.location, "unknown parameter '\(name)' of \(owner)\(NameSuggestion.hint(for: name, in: names)); \(list)")
                        ok = false
                        continue
                    }
                    given[name] = value
                }
            } else {
                error(node.location, "'params' of \(owner) must be a mapping (found \(node.kindName))")
                return nil
            }
        }
        for spec in specs {
            if let raw = given[spec.name] {
                guard let node = substitute(raw) else { ok = false; continue }
                if let value = convert(node, to: spec, owner: owner) { values[spec.name] = value } else { ok = false }
            } else if let value = spec.defaultValue {
                if case .strategy(let family) = spec.type, let choice = StrategyChoice(value) {
                    // Fill in the default strategy's own defaults.
                    let node = SourceNode.scalar(choice.name, .str, quoted: true, ownerLocation)
                    if let filled = convertStrategy(node, family: family, owner: owner, parameter: spec.name, preset: choice.parameters) {
                        values[spec.name] = filled
                    } else { ok = false }
                } else {
                    values[spec.name] = value
                }
            } else {
                error(ownerLocation, "\(owner) is missing required parameter '\(spec.name)' (\(spec.type)): \(spec.documentation)")
                ok = false
            }
        }
        return ok ? ResolvedParameters(values) : nil
    }

    /// Converts one value to a parameter's type, reporting a mistyped value at its location.
    mutating func convert(_ node: SourceNode, to spec: ParameterSpec, owner: String) -> JSONValue? {
        let value: JSONValue?
        func mistyped() -> JSONValue? {
            let shown = node.text.map { "'\($0)'" } ?? node.kindName
            error(node.location, "parameter '\(spec.name)' of \(owner) expects \(article(spec.type)), got \(shown)")
            return nil
        }
        switch spec.type {
        case .int:
            guard case .scalar(let text, _, false, _) = node, let v = Int(text.replacingOccurrences(of: "_", with: "")) else { return mistyped() }
            value = .int(v)
        case .double:
            guard case .scalar(let text, _, false, _) = node, let v = Double(text.replacingOccurrences(of: "_", with: "")), v.isFinite else { return mistyped() }
            value = Int(text).map { .int($0) } ?? .double(v)
        case .bool:
            guard case .scalar(let text, let tag, false, _) = node, tag == .bool else { return mistyped() }
            value = .bool(["true", "yes", "on"].contains(text.lowercased()))
        case .string:
            guard let text = node.text, !node.isNull else { return mistyped() }
            value = .string(text)
        case .path:
            guard let text = node.text, !node.isNull else { return mistyped() }
            let path = text.isEmpty ? "" : resolvePath(text).path
            // A path names something the stage reads (its digest is part of the cache key).
            if !path.isEmpty, !FileManager.default.fileExists(atPath: path) {
                error(node.location, "parameter '\(spec.name)' of \(owner): \(path) does not exist")
                return nil
            }
            value = .string(path)
        case .choice(let options):
            guard let text = node.text else { return mistyped() }
            guard options.contains(text) else {
                error(node.location, "parameter '\(spec.name)' of \(owner) must be one of \(options.joined(separator: ", ")), got '\(text)'\(NameSuggestion.hint(for: text, in: options))")
                return nil
            }
            value = .string(text)
        case .stringList:
            if let items = node.items {
                var list: [JSONValue] = []
                for item in items {
                    guard let resolved = substitute(item), let text = resolved.text else { return mistyped() }
                    list.append(.string(text))
                }
                value = .array(list)
            } else if let text = node.text, !node.isNull {
                value = .array([.string(text)])
            } else {
                return mistyped()
            }
        case .strategy(let family):
            var defaultName: String?
            if let choice = StrategyChoice(spec.defaultValue) { defaultName = choice.name }
            return convertStrategy(node, family: family, owner: owner, parameter: spec.name, preset: [:], defaultName: defaultName)
        }
        if let value, let check = spec.check, let problem = check(value) {
            error(node.location, "parameter '\(spec.name)' of \(owner) \(problem), got \(value)")
            return nil
        }
        return value
    }

    /// A strategy given as a name (`kld: batch`) or a mapping (`beta: {name: constant, value: 1}`).
    mutating func convertStrategy(_ node: SourceNode, family: String, owner: String, parameter: String, preset: [String: JSONValue],
                                  defaultName: String? = nil) -> JSONValue? {
        var nameNode: SourceNode
        var paramsNode: SourceNode?
        if node.text != nil {
            nameNode = node
        } else if let pairs = node.pairs {
            guard let n = node["name"] ?? defaultName.map({ SourceNode.scalar($0, .str, quoted: true, node.location) }) else {
                error(node.location, "strategy '\(parameter)' of \(owner) needs 'name:' (a \(family) strategy)")
                return nil
            }
            nameNode = n
            paramsNode = .mapping(pairs.filter { $0.key.text != "name" }, node.location)
        } else {
            error(node.location, "parameter '\(parameter)' of \(owner) expects a \(family) strategy name or {name: ..., params...}, got \(node.kindName)")
            return nil
        }
        guard let resolvedName = substitute(nameNode), let name = resolvedName.text else { return nil }
        nameNode = resolvedName
        guard let descriptor = registry.strategy(family: family, name: name) else {
            let known = registry.strategies(family: family).map(\.name)
            let list = known.isEmpty ? "no \(family) strategies are registered" : "known: \(known.joined(separator: ", "))"
            error(nameNode.location, "unknown \(family) strategy '\(name)'\(NameSuggestion.hint(for: name, in: known)) (\(list))")
            return nil
        }
        var specs = descriptor.parameters
        for (k, v) in preset {
            if let i = specs.firstIndex(where: { $0.name == k }) { specs[i].defaultValue = v }
        }
        guard let params = resolveParameters(paramsNode, specs: specs, owner: "\(family) strategy '\(name)' (\(parameter) of \(owner))", ownerLocation: nameNode.location) else {
            return nil
        }
        return .strategy(StrategyChoice(name: name, parameters: params.values))
    }

    /// Resolves `stage.output` (or `stage` alone when that stage has exactly one output of the
    /// input's kind) for one input.
    mutating func resolveReference(_ text: String, at location: SourceLocation, for spec: PortSpec, of stageName: String,
                                   stageNames: [String], kinds: [String: Stage.Type]) -> OutputReference? {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        let target = parts.first ?? ""
        guard stageNames.contains(target) else {
            error(location, "input '\(spec.name)' of stage '\(stageName)' names unknown stage '\(target)'\(NameSuggestion.hint(for: target, in: stageNames.filter { $0 != stageName }))")
            return nil
        }
        if target == stageName {
            error(location, "cycle between stages: stage '\(stageName)' reads its own output")
            return nil
        }
        guard let kind = kinds[target] else { return nil }  // its kind was already reported unknown
        let outputs = kind.outputs
        let port: PortSpec
        if parts.count == 2 {
            guard let p = outputs.first(where: { $0.name == parts[1] }) else {
                let names = outputs.map(\.name)
                error(location, "stage '\(target)' (\(kind.kind)) has no output '\(parts[1])'\(NameSuggestion.hint(for: parts[1], in: names)); its outputs are \(names.joined(separator: ", "))")
                return nil
            }
            port = p
        } else {
            let matching = outputs.filter { $0.kind == spec.kind }
            guard matching.count == 1 else {
                error(location, "input '\(spec.name)' must name an output as '\(target).OUTPUT' (outputs of '\(target)': \(outputs.map(\.name).joined(separator: ", ")))")
                return nil
            }
            port = matching[0]
        }
        guard port.kind == spec.kind else {
            error(location, "input '\(spec.name)' of stage '\(stageName)' expects \(spec.kind.rawValue), but '\(target).\(port.name)' is \(port.kind.rawValue)")
            return nil
        }
        return OutputReference(stage: target, output: port.name)
    }

    private func article(_ type: ParameterType) -> String {
        let text = type.description
        if case .choice = type { return text }
        return (["a", "e", "i", "o", "u"].contains(text.prefix(1)) ? "an " : "a ") + text
    }
}
