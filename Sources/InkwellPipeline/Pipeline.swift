import Foundation

/// A validated pipeline: every stage kind, parameter, strategy and input checked, stages in
/// topological order (a stage comes after every stage it reads from).
public struct Pipeline {
    /// `name:` from the file, or the file's name without extension.
    public var name: String
    public var file: URL
    /// The folder holding the pipeline file; relative paths in it are resolved from here.
    public var directory: URL { file.deletingLastPathComponent() }
    /// Variables after `--set` overrides.
    public var variables: [String: JSONValue]
    /// Plugin libraries named by `plugins:`, as absolute paths.
    public var plugins: [URL]
    /// Stages in topological order.
    public var stages: [PipelineStage]

    public func stage(named name: String) -> PipelineStage? {
        stages.first { $0.name == name }
    }

    /// The named stages and every stage they depend on, transitively.
    public func ancestors(of names: Set<String>) -> Set<String> {
        var result = Set<String>()
        var pending = Array(names)
        while let next = pending.popLast() {
            guard result.insert(next).inserted, let stage = stage(named: next) else { continue }
            pending.append(contentsOf: stage.dependencies)
        }
        return result
    }
}

/// One stage of a validated pipeline.
public struct PipelineStage {
    public var name: String
    public var kind: Stage.Type
    public var parameters: ResolvedParameters
    /// Input port name to the producing stage's output.
    public var inputs: [String: OutputReference]
    /// Where the stage is defined in the file.
    public var location: SourceLocation

    /// Names of the stages this one reads from.
    public var dependencies: [String] {
        Array(Set(inputs.values.map(\.stage))).sorted()
    }
}

/// A reference to another stage's output, written `stage.output` in a pipeline file.
public struct OutputReference: Equatable, Sendable, CustomStringConvertible {
    public var stage: String
    public var output: String
    public init(stage: String, output: String) {
        self.stage = stage
        self.output = output
    }
    public var description: String { "\(stage).\(output)" }
}
