import ArgumentParser
import Foundation
import Inkwell

/// `inkwell stages`: every registered stage kind and strategy, with parameters and documentation.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the stage kinds and strategies a pipeline file can name, with their parameters."
    )

    @Option(name: .customLong("plugin"), help: "Load this plugin library first, to list its stages and strategies too (repeatable).")
    var plugins: [String] = []

    func validate() throws {
        for p in plugins where !FileManager.default.fileExists(atPath: p) {
            throw ValidationError("--plugin \(p): no such file")
        }
    }

    func run() throws {
        let registry = PipelineSession.registry
        for p in plugins {
            do { try PluginLoader.load(URL(fileURLWithPath: p), into: registry) } catch {
                FileHandle.standardError.write(Data("inkwell: cannot load plugin \(p): \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        var out = "STAGES\n"
        for stage in registry.stages {
            out += "\n\(stage.kind) (version \(stage.version))\n"
            out += wrap(stage.documentation, indent: "    ")
            if !stage.inputs.isEmpty {
                out += "  inputs:\n"
                for port in stage.inputs {
                    out += "    \(port.name): \(port.kind.rawValue)\(port.isOptional ? ", optional" : "") - \(port.documentation)\n"
                }
            }
            out += "  outputs:\n"
            for port in stage.outputs { out += "    \(port.name): \(port.kind.rawValue) - \(port.documentation)\n" }
            if !stage.parameters.isEmpty {
                out += "  params:\n"
                for spec in stage.parameters { out += describe(spec, indent: "    ") }
            }
        }
        out += "\nSTRATEGIES (chosen by name: `beta: {name: dual-gradient, target: 0.1}`)\n"
        var family = ""
        for strategy in registry.strategies {
            if strategy.family != family {
                family = strategy.family
                out += "\n\(family):\n"
            }
            out += "  \(strategy.name)\(strategy.documentation.isEmpty ? "" : " - " + strategy.documentation)\n"
            for spec in strategy.parameters { out += describe(spec, indent: "      ") }
        }
        print(out, terminator: "")
    }

    func describe(_ spec: ParameterSpec, indent: String) -> String {
        let value = spec.defaultValue.map { v -> String in
            if case .string(let s) = v, s.isEmpty { return "(none)" }
            return v.description
        } ?? "(required)"
        return "\(indent)\(spec.name): \(spec.type) = \(value) - \(spec.documentation)\n"
    }

    func wrap(_ text: String, indent: String, width: Int = 96) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width - indent.count, !line.isEmpty {
                lines.append(indent + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(indent + line) }
        return lines.map { $0 + "\n" }.joined()
    }
}
