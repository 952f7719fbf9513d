import Foundation
import Yams

/// Reads a pipeline file and validates it against a registry before anything runs.
///
/// Every problem is collected (not only the first) as a ``PipelineDiagnostic`` with the file, line
/// and column of the offending value, and a suggestion for near-miss names. See docs/PIPELINES.md
/// for the file format.
public struct PipelineLoader {
    public var registry: StageRegistry
    /// `KEY=VALUE` overrides from `--set`: `stage.param=value`, `stage.strategy.param=value`, or
    /// `variable=value`. Values are read as YAML (`--set train.beta={name: constant}` works).
    public var overrides: [String]
    /// Called for each `plugins:` entry (an absolute path) before stages are validated, so the
    /// plugins' stages and strategies are known; throw to report the plugin as unloadable.
    public var loadPlugin: ((URL) throws -> Void)?

    public init(registry: StageRegistry = .shared, overrides: [String] = [], loadPlugin: ((URL) throws -> Void)? = nil) {
        self.registry = registry
        self.overrides = overrides
        self.loadPlugin = loadPlugin
    }

    static let topLevelKeys = ["name", "description", "vars", "plugins", "stages"]
    static let stageKeys = ["kind", "params", "inputs", "description"]

    /// Loads and validates the file; throws ``PipelineValidationError`` listing every problem, or
    /// a file-reading error naming the file.
    public func load(_ file: URL) throws -> Pipeline {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw PipelineValidationError([PipelineDiagnostic(file: file.path, line: 1, column: 1, message: "cannot read the pipeline file: \((error as NSError).localizedDescription)")])
        }
        return try load(data: data, file: file)
    }

    /// Loads and validates a pipeline file's bytes; `file` names it in diagnostics and anchors its
    /// relative paths.
    public func load(data: Data, file: URL) throws -> Pipeline {
        try load(text: SourceNode.decodeUTF8(data, file: Self.displayPath(file)), file: file)
    }

    public func load(text: String, file: URL) throws -> Pipeline {
        var context = ValidationContext(file: file, registry: registry)
        let label = Self.displayPath(file)
        guard var root = try SourceNode.parse(text, file: label) else {
            throw PipelineValidationError([PipelineDiagnostic(file: label, line: 1, column: 1, message: "the pipeline file is empty")])
        }
        guard root.pairs != nil else {
            throw PipelineValidationError([context.diagnostic(root.location, "a pipeline file must be a mapping with 'stages:' (found \(root.kindName))")])
        }
        checkTopLevelKeys(root, context: &context)
        applyOverrides(to: &root, context: &context)
        readVariables(root, context: &context)
        let plugins = loadPlugins(root, context: &context)
        let name = pipelineName(root, file: file, context: &context)
        let declared = declaredStages(root, context: &context)
        let kinds = stageKinds(declared, context: &context)
        let stageNames = declared.map(\.name)
        var stages = declared.compactMap { resolveStage($0, kinds: kinds, stageNames: stageNames, context: &context) }
        if context.diagnostics.isEmpty { stages = order(stages, declared: declared, context: &context) }
        if !context.diagnostics.isEmpty { throw PipelineValidationError(context.diagnostics) }
        return Pipeline(name: name, file: file, variables: context.variables.compactMapValues { Self.plainValue($0) }, plugins: plugins, stages: stages)
    }

    /// A stage as the file declares it: its name, its key and its body (not yet checked).
    private struct DeclaredStage {
        var name: String
        var key: SourceNode
        var body: SourceNode
    }

    private func checkTopLevelKeys(_ root: SourceNode, context: inout ValidationContext) {
        for (key, _) in root.pairs! {
            guard let name = key.text else { context.error(key.location, "keys must be plain names"); continue }
            if !Self.topLevelKeys.contains(name) {
                context.error(key.location, "unknown top-level key '\(name)'\(NameSuggestion.hint(for: name, in: Self.topLevelKeys)) (expected one of \(Self.topLevelKeys.joined(separator: ", ")))")
            }
        }
    }

    /// `vars:`: each a scalar, named once; recorded in the context for substitution.
    private func readVariables(_ root: SourceNode, context: inout ValidationContext) {
        guard let vars = root["vars"] else { return }
        guard let pairs = vars.pairs else {
            if !vars.isNull { context.error(vars.location, "'vars' must be a mapping of names to values (found \(vars.kindName))") }
            return
        }
        var seen = [String: SourceLocation]()
        for (key, value) in pairs {
            guard let name = key.text else { continue }
            if let first = seen[name] {
                context.error(key.location, "duplicate variable '\(name)' (first defined at line \(first.line))")
                continue
            }
            seen[name] = key.location
            guard value.text != nil else {
                context.error(value.location, "variable '\(name)' must be a scalar (found \(value.kindName))")
                continue
            }
            context.variables[name] = value
        }
    }

    /// `plugins:`, loaded before stages are checked so their kinds are known.
    private func loadPlugins(_ root: SourceNode, context: inout ValidationContext) -> [URL] {
        guard let list = root["plugins"], !list.isNull else { return [] }
        var plugins: [URL] = []
        for entry in list.items ?? [list] {
            guard let resolved = context.substitute(entry), let path = resolved.text else {
                if entry.text == nil { context.error(entry.location, "a plugin must be a path to a shared library") }
                continue
            }
            let url = context.resolvePath(path)
            plugins.append(url)
            if let loadPlugin {
                do { try loadPlugin(url) } catch {
                    context.error(entry.location, "cannot load plugin '\(path)': \(error)")
                }
            }
        }
        return plugins
    }

    /// `name:`, or the file's name without its extension.
    private func pipelineName(_ root: SourceNode, file: URL, context: inout ValidationContext) -> String {
        let name = file.deletingPathExtension().lastPathComponent
        guard let node = root["name"] else { return name }
        if let text = context.substitute(node)?.text, !text.isEmpty, !text.contains("/"), text != ".", text != ".." {
            return text
        }
        context.error(node.location, "'name' must be a non-empty string without '/' (it names the run directory runs/<name>)")
        return name
    }

    /// `stages:`: the stages with valid, distinct names, in file order.
    private func declaredStages(_ root: SourceNode, context: inout ValidationContext) -> [DeclaredStage] {
        guard let stages = root["stages"], let pairs = stages.pairs else {
            if let stages = root["stages"], !stages.isNull {
                context.error(stages.location, "'stages' must be a mapping of stage names to stage definitions (found \(stages.kindName))")
            } else {
                context.error(root.location, "the pipeline has no 'stages:'")
            }
            return []
        }
        var declared: [DeclaredStage] = []
        var seen = [String: SourceLocation]()
        for (key, body) in pairs {
            guard let stageName = key.text, !stageName.isEmpty else { context.error(key.location, "a stage name must be a plain string"); continue }
            if let first = seen[stageName] {
                context.error(key.location, "duplicate stage name '\(stageName)' (first defined at line \(first.line))")
                continue
            }
            if stageName.contains(".") || stageName.contains("/") || stageName.contains(" ") {
                context.error(key.location, "stage name '\(stageName)' must not contain '.', '/' or spaces")
                continue
            }
            seen[stageName] = key.location
            declared.append(DeclaredStage(name: stageName, key: key, body: body))
        }
        return declared
    }

    /// Each declared stage's kind, from the registry; stages whose body or kind is wrong are left out.
    private func stageKinds(_ declared: [DeclaredStage], context: inout ValidationContext) -> [String: Stage.Type] {
        var kinds: [String: Stage.Type] = [:]
        for stage in declared {
            guard let pairs = stage.body.pairs else {
                context.error(stage.body.location, "stage '\(stage.name)' must be a mapping with 'kind:' (found \(stage.body.kindName))")
                continue
            }
            for (k, _) in pairs where !Self.stageKeys.contains(k.text ?? "") {
                let text = k.text ?? ""
                context.error(k.location, "unknown key '\(text)' in stage '\(stage.name)'\(NameSuggestion.hint(for: text, in: Self.stageKeys)) (expected \(Self.stageKeys.joined(separator: ", ")))")
            }
            guard let kindNode = stage.body["kind"], let kindName = context.substitute(kindNode)?.text else {
                context.error(stage.key.location, "stage '\(stage.name)' has no 'kind:'")
                continue
            }
            guard let kind = registry.stage(kind: kindName) else {
                let known = registry.stages.map { $0.kind }
                context.error(kindNode.location, "unknown stage kind '\(kindName)'\(NameSuggestion.hint(for: kindName, in: known)) (known kinds: \(known.joined(separator: ", ")))")
                continue
            }
            kinds[stage.name] = kind
        }
        return kinds
    }

    /// A stage of known kind with its parameters resolved and checked and its inputs resolved;
    /// nil when its kind is unknown or its parameters cannot be resolved.
    private func resolveStage(_ stage: DeclaredStage, kinds: [String: Stage.Type], stageNames: [String],
                              context: inout ValidationContext) -> PipelineStage? {
        guard let kind = kinds[stage.name] else { return nil }
        let (stageName, key, body) = (stage.name, stage.key, stage.body)
        let parameters = context.resolveParameters(body["params"], specs: kind.parameters, owner: "stage '\(stageName)' (\(kind.kind))", ownerLocation: key.location)
        if let parameters {
            for problem in kind.validate(parameters) {
                let location = problem.parameter.flatMap { p in body["params"]?.pairs?.first(where: { $0.key.text == p })?.value.location } ?? key.location
                context.error(location, "stage '\(stageName)': \(problem.message)")
            }
        }
        let inputs = resolveInputs(stage, kind: kind, kinds: kinds, stageNames: stageNames, context: &context)
        guard let parameters else { return nil }
        return PipelineStage(name: stageName, kind: kind, parameters: parameters, inputs: inputs, location: key.location)
    }

    /// `inputs:` of a stage: each port of its kind bound to another stage's output; every
    /// required port bound.
    private func resolveInputs(_ stage: DeclaredStage, kind: Stage.Type, kinds: [String: Stage.Type], stageNames: [String],
                               context: inout ValidationContext) -> [String: OutputReference] {
        let (stageName, key, body) = (stage.name, stage.key, stage.body)
        var inputs: [String: OutputReference] = [:]
        let declaredInputs = kind.inputs.map(\.name)
        if let inputNode = body["inputs"], !inputNode.isNull {
            if let pairs = inputNode.pairs {
                for (portKey, refNode) in pairs {
                    let port = portKey.text ?? ""
                    guard let spec = kind.inputs.first(where: { $0.name == port }) else {
                        let list = declaredInputs.isEmpty ? "it has no inputs" : "its inputs are \(declaredInputs.joined(separator: ", "))"
                        context.error(portKey.location, "stage '\(stageName)' (\(kind.kind)) has no input '\(port)'\(NameSuggestion.hint(for: port, in: declaredInputs)); \(list)")
                        continue
                    }
                    guard let reference = context.substitute(refNode)?.text else {
                        if refNode.text == nil { context.error(refNode.location, "input '\(port)' must name another stage's output as 'stage.output'") }
                        continue
                    }
                    if let resolved = context.resolveReference(reference, at: refNode.location, for: spec, of: stageName, stageNames: stageNames, kinds: kinds) {
                        inputs[port] = resolved
                    }
                }
            } else {
                context.error(inputNode.location, "'inputs' of stage '\(stageName)' must be a mapping of input names to 'stage.output' (found \(inputNode.kindName))")
            }
        }
        for spec in kind.inputs where !spec.isOptional && inputs[spec.name] == nil {
            let alreadyReported = body["inputs"]?.pairs?.contains(where: { $0.key.text == spec.name }) ?? false
            if !alreadyReported {
                context.error(key.location, "stage '\(stageName)' (\(kind.kind)) is missing its required input '\(spec.name)' (\(spec.kind.rawValue)); add 'inputs: {\(spec.name): STAGE.OUTPUT}'")
            }
        }
        return inputs
    }

    /// The stages in dependency order, or as they were with a diagnostic naming a cycle.
    private func order(_ stages: [PipelineStage], declared: [DeclaredStage], context: inout ValidationContext) -> [PipelineStage] {
        switch PipelineGraph.topologicalOrder(stages) {
        case .success(let ordered): return ordered
        case .failure(let cycle):
            let first = stages.first { $0.name == cycle[0] }!
            let location = declared.first { $0.name == first.name }?.body["inputs"]?.location ?? first.location
            context.error(location, "cycle between stages: \((cycle + [cycle[0]]).joined(separator: " -> "))")
            return stages
        }
    }

    static func plainValue(_ node: SourceNode) -> JSONValue? {
        guard case .scalar(let text, let tag, let quoted, _) = node else { return nil }
        if !quoted {
            if tag == .int, let v = Int(text.replacingOccurrences(of: "_", with: "")) { return .int(v) }
            if tag == .float, let v = Double(text) { return .double(v) }
            if tag == .bool { return .bool(["true", "yes", "on"].contains(text.lowercased())) }
        }
        return .string(text)
    }

    /// The path as shown in diagnostics: relative to the current directory when inside it.
    static func displayPath(_ file: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let path = file.standardizedFileURL.path
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }

    /// Grafts `--set` overrides into the tree before validation.
    private func applyOverrides(to root: inout SourceNode, context: inout ValidationContext) {
        for raw in overrides {
            let where_ = SourceLocation(file: "--set \(raw)", line: 0, column: 0)
            guard let eq = raw.firstIndex(of: "="), eq != raw.startIndex else {
                context.error(where_, "an override must be KEY=VALUE (stage.param=value or variable=value)")
                continue
            }
            let path = raw[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let valueText = String(raw[raw.index(after: eq)...])
            var value: SourceNode
            do {
                value = try SourceNode.parse(valueText, file: where_.file).map { Self.relocate($0, to: where_) }
                    ?? .scalar("", .str, quoted: true, where_)
            } catch {
                context.error(where_, "the value is not valid YAML")
                continue
            }
            if path.contains(where: \.isEmpty) || path.count > 3 {
                context.error(where_, "an override key is 'variable', 'stage.param' or 'stage.strategy.param'")
                continue
            }
            if path.count == 1 {
                var vars = root["vars"] ?? .mapping([], where_)
                if vars.pairs == nil { vars = .mapping([], where_) }
                if vars[path[0]] == nil {
                    let known = vars.pairs?.compactMap { $0.key.text } ?? []
                    context.error(where_, "no variable '\(path[0])' in the pipeline\(NameSuggestion.hint(for: path[0], in: known))")
                    continue
                }
                vars.set(path[0], value, keyLocation: where_)
                root.set("vars", vars, keyLocation: where_)
                continue
            }
            guard var stages = root["stages"], stages.pairs != nil else { continue }
            guard var stage = stages[path[0]], stage.pairs != nil else {
                let known = stages.pairs?.compactMap { $0.key.text } ?? []
                context.error(where_, "no stage '\(path[0])' in the pipeline\(NameSuggestion.hint(for: path[0], in: known))")
                continue
            }
            var params = stage["params"] ?? .mapping([], where_)
            if params.pairs == nil { params = .mapping([], where_) }
            if path.count == 3 {
                var strategy = params[path[1]] ?? .mapping([], where_)
                if case .scalar(let name, _, _, let location) = strategy {
                    strategy = .mapping([(.scalar("name", .str, quoted: false, location), .scalar(name, .str, quoted: false, location))], location)
                }
                strategy.set(path[2], value, keyLocation: where_)
                value = strategy
            }
            params.set(path[1], value, keyLocation: where_)
            stage.set("params", params, keyLocation: where_)
            stages.set(path[0], stage, keyLocation: where_)
            root.set("stages", stages, keyLocation: where_)
        }
    }

    static func relocate(_ node: SourceNode, to location: SourceLocation) -> SourceNode {
        switch node {
        case .scalar(let s, let t, let q, _): return .scalar(s, t, quoted: q, location)
        case .mapping(let pairs, _): return .mapping(pairs.map { (relocate($0.key, to: location), relocate($0.value, to: location)) }, location)
        case .sequence(let items, _): return .sequence(items.map { relocate($0, to: location) }, location)
        }
    }
}
