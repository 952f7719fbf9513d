import Foundation

/// The stage graph: ordering, cycle detection and rendering (text and Graphviz DOT).
public enum PipelineGraph {
    public enum Order {
        case success([PipelineStage])
        /// The stages of one cycle, in order.
        case failure([String])
    }

    /// Kahn's algorithm, keeping file order among stages that are ready together; on a cycle,
    /// returns one cycle's stages.
    public static func topologicalOrder(_ stages: [PipelineStage]) -> Order {
        var remaining = stages
        var done = Set<String>()
        var ordered: [PipelineStage] = []
        while !remaining.isEmpty {
            guard let i = remaining.firstIndex(where: { $0.dependencies.allSatisfy(done.contains) }) else {
                return .failure(findCycle(remaining))
            }
            let next = remaining.remove(at: i)
            done.insert(next.name)
            ordered.append(next)
        }
        return .success(ordered)
    }

    /// One cycle among stages that all still have an unmet dependency.
    static func findCycle(_ stages: [PipelineStage]) -> [String] {
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) })
        var path: [String] = []
        var current = stages[0].name
        while !path.contains(current) {
            path.append(current)
            guard let next = byName[current]?.dependencies.first(where: { byName[$0] != nil }) else { break }
            current = next
        }
        guard let start = path.firstIndex(of: current) else { return path }
        // Dependencies point backwards (reader -> producer); show data flow (producer -> reader),
        // starting from the cycle's stage that comes first in the file.
        let cycle = Array(path[start...].reversed())
        let order = stages.map(\.name)
        let first = cycle.indices.min { order.firstIndex(of: cycle[$0])! < order.firstIndex(of: cycle[$1])! }!
        return Array(cycle[first...] + cycle[..<first])
    }

    /// One line per stage in order, with its kind and where its inputs come from.
    public static func text(_ pipeline: Pipeline) -> String {
        var lines = ["pipeline \(pipeline.name) (\(pipeline.stages.count) stages)"]
        for stage in pipeline.stages {
            let inputs = stage.inputs.keys.sorted().map { "\($0) <- \(stage.inputs[$0]!)" }
            let outputs = stage.kind.outputs.map { "\($0.name) (\($0.kind.rawValue))" }
            var line = "  \(stage.name) [\(stage.kind.kind)]"
            if !inputs.isEmpty { line += "  in: " + inputs.joined(separator: ", ") }
            if !outputs.isEmpty { line += "  out: " + outputs.joined(separator: ", ") }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The DAG in Graphviz DOT: a box per stage, an edge per input labelled `output -> input`.
    public static func dot(_ pipeline: Pipeline) -> String {
        func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["digraph \(quote(pipeline.name)) {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
        for stage in pipeline.stages {
            let label = String(quote(stage.name).dropLast()) + "\\n" + String(quote(stage.kind.kind).dropFirst())
            lines.append("  \(quote(stage.name)) [label=\(label)];")
        }
        for stage in pipeline.stages {
            for port in stage.inputs.keys.sorted() {
                let ref = stage.inputs[port]!
                let label = ref.output == port ? port : "\(ref.output) -> \(port)"
                lines.append("  \(quote(ref.stage)) -> \(quote(stage.name)) [label=\(quote(label))];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
