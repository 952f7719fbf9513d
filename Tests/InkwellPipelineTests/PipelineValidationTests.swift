import InkwellPipeline
import InkwellTestSupport
import XCTest

final class PipelineValidationTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try SharedFixtures.temporaryDirectory(self, name: "inkwell-pipeline")
    }

    func write(_ text: String, name: String = "p.yaml") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func load(_ text: String, overrides: [String] = []) throws -> Pipeline {
        try PipelineLoader(registry: TestRegistry.make(), overrides: overrides).load(write(text))
    }

    /// The diagnostics of an invalid pipeline, as printed.
    func errors(_ text: String, overrides: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        do {
            _ = try load(text, overrides: overrides)
            XCTFail("pipeline was accepted", file: file, line: line)
            return []
        } catch let error as PipelineValidationError {
            return error.diagnostics.map(\.description)
        }
    }

    var path: String { directory.appendingPathComponent("p.yaml").path }

    static let valid = """
        name: test
        vars:
          n: 5
          word: hi
        stages:
          src:
            kind: source
            params:
              count: ${n}
              text: say ${word}
          tx:
            kind: transform
            inputs:
              data: src.data
            params:
              factor: 2
              beta: {name: dual-gradient, target: 0.2}
          out:
            kind: sink
            inputs: {model: tx.model}
        """

    func testValidPipelineResolvesVariablesDefaultsAndInputs() throws {
        let pipeline = try load(Self.valid)
        XCTAssertEqual(pipeline.name, "test")
        XCTAssertEqual(pipeline.stages.map(\.name), ["src", "tx", "out"])
        let src = pipeline.stage(named: "src")!
        XCTAssertEqual(src.parameters["count"], .int(5), "a whole-scalar variable keeps its type")
        XCTAssertEqual(src.parameters["text"], .string("say hi"), "a variable inside a string is spliced in")
        XCTAssertEqual(src.parameters["seed_file"], .string(""))
        let tx = pipeline.stage(named: "tx")!
        XCTAssertEqual(tx.parameters["factor"], .int(2))
        XCTAssertEqual(tx.parameters["mode"], .string("fast"))
        XCTAssertEqual(tx.parameters["beta"], .strategy(StrategyChoice(name: "dual-gradient", parameters: ["initial": .double(10), "target": .double(0.2)])))
        XCTAssertEqual(tx.inputs["data"], OutputReference(stage: "src", output: "data"))
        XCTAssertEqual(pipeline.stage(named: "out")!.dependencies, ["tx"])
    }

    func testStagesAreOrderedByDependenciesNotFileOrder() throws {
        let pipeline = try load("""
            stages:
              out:
                kind: sink
                inputs: {model: tx.model}
              tx:
                kind: transform
                inputs: {data: src}
              src:
                kind: source
            """)
        XCTAssertEqual(pipeline.stages.map(\.name), ["src", "tx", "out"])
        XCTAssertEqual(pipeline.name, "p", "the file name is the default pipeline name")
    }

    func testDefaultStrategyGetsItsDefaultParameters() throws {
        let pipeline = try load("stages:\n  src: {kind: source}\n  tx: {kind: transform, inputs: {data: src.data}}\n")
        XCTAssertEqual(pipeline.stage(named: "tx")!.parameters["beta"], .strategy(StrategyChoice(name: "constant", parameters: ["value": .double(1)])))
    }

    func testUnknownStageKindSuggestsNearName() throws {
        let e = try errors("stages:\n  src:\n    kind: sourse\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):3:11: error: unknown stage kind 'sourse'; did you mean 'source'?"), e[0])
    }

    func testUnknownParameterSuggestsNearName() throws {
        let e = try errors("stages:\n  src:\n    kind: source\n    params:\n      cuont: 3\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):5:7: error: unknown parameter 'cuont' of stage 'src' (source); did you mean 'count'?"), e[0])
    }

    func testMistypedParameterNamesTypeAndValue() throws {
        let e = try errors("stages:\n  src:\n    kind: source\n    params:\n      count: many\n")
        XCTAssertEqual(e, ["\(path):5:14: error: parameter 'count' of stage 'src' (source) expects an integer, got 'many'"])
        let f = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n    inputs: {data: src.data}\n    params: {fail: 3}\n")
        XCTAssertEqual(f, ["\(path):6:20: error: parameter 'fail' of stage 'tx' (transform) expects a boolean, got '3'"])
    }

    func testParameterOutOfRangeIsReported() throws {
        let e = try errors("stages:\n  src:\n    kind: source\n    params: {count: 0}\n")
        XCTAssertEqual(e, ["\(path):4:21: error: parameter 'count' of stage 'src' (source) must be at least 1, got 0"])
    }

    func testChoiceParameterSuggests() throws {
        let e = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n    inputs: {data: src.data}\n    params: {mode: slwo}\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):6:20: error: parameter 'mode' of stage 'tx' (transform) must be one of fast, slow, got 'slwo'; did you mean 'slow'?"), e[0])
    }

    func testUnknownStrategyAndStrategyParameter() throws {
        let e = try errors("""
            stages:
              src: {kind: source}
              tx:
                kind: transform
                inputs: {data: src.data}
                params:
                  beta: {name: dual-gradiant}
            """)
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):7:20: error: unknown beta strategy 'dual-gradiant'; did you mean 'dual-gradient'?"), e[0])
        let f = try errors("""
            stages:
              src: {kind: source}
              tx:
                kind: transform
                inputs: {data: src.data}
                params:
                  beta: {name: dual-gradient, taget: 0.3}
            """)
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].hasPrefix("\(path):7:35: error: unknown parameter 'taget' of beta strategy 'dual-gradient'"), f[0])
        XCTAssertTrue(f[0].contains("did you mean 'target'?"), f[0])
    }

    func testMissingInputIsReportedAtTheStage() throws {
        let e = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n")
        XCTAssertEqual(e, ["\(path):3:3: error: stage 'tx' (transform) is missing its required input 'data' (dataset); add 'inputs: {data: STAGE.OUTPUT}'"])
    }

    func testInputNamingUnknownStageOrOutputOrWrongKind() throws {
        let e = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n    inputs:\n      data: sorce.data\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):6:13: error: input 'data' of stage 'tx' names unknown stage 'sorce'; did you mean 'src'?") || e[0].contains("unknown stage 'sorce'"), e[0])
        let f = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n    inputs:\n      data: src.dta\n")
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].hasPrefix("\(path):6:13: error: stage 'src' (source) has no output 'dta'; did you mean 'data'?"), f[0])
        let g = try errors("stages:\n  src: {kind: source}\n  tx: {kind: transform, inputs: {data: src.data}}\n  out:\n    kind: sink\n    inputs: {model: src.data}\n")
        XCTAssertEqual(g, ["\(path):6:21: error: input 'model' of stage 'out' expects checkpoint, but 'src.data' is dataset"])
        let h = try errors("stages:\n  src: {kind: source}\n  tx:\n    kind: transform\n    inputs: {dat: src.data}\n")
        XCTAssertTrue(h.contains { $0.hasPrefix("\(path):5:14: error: stage 'tx' (transform) has no input 'dat'; did you mean 'data'?") }, "\(h)")
    }

    func testCycleIsReportedWithItsStages() throws {
        let registry = TestRegistry.make()
        registry.register(LoopStage.self)
        do {
            _ = try PipelineLoader(registry: registry).load(write("""
                stages:
                  a:
                    kind: loop
                    inputs: {data: c.data}
                    params: {label: x}
                  b:
                    kind: loop
                    inputs: {data: a.data}
                    params: {label: x}
                  c:
                    kind: loop
                    inputs: {data: b.data}
                    params: {label: x}
                """))
            XCTFail("cycle accepted")
        } catch let error as PipelineValidationError {
            XCTAssertEqual(error.diagnostics.map(\.description), ["\(path):4:13: error: cycle between stages: a -> b -> c -> a"])
        }
        do {
            _ = try PipelineLoader(registry: registry).load(write("stages:\n  a:\n    kind: loop\n    inputs: {data: a.data}\n    params: {label: x}\n"))
            XCTFail("self-loop accepted")
        } catch let error as PipelineValidationError {
            XCTAssertEqual(error.diagnostics.map(\.description), ["\(path):4:20: error: cycle between stages: stage 'a' reads its own output"])
        }
    }

    func testDuplicateStageName() throws {
        let e = try errors("stages:\n  src: {kind: source}\n  src: {kind: source}\n")
        XCTAssertEqual(e, ["\(path):3:3: error: duplicate stage name 'src' (first defined at line 2)"])
    }

    func testUnknownVariableAndUnknownKeys() throws {
        let e = try errors("vars: {count: 3}\nstages:\n  src:\n    kind: source\n    params:\n      count: ${cont}\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):6:14: error: unknown variable 'cont'; did you mean 'count'?"), e[0])
        let f = try errors("stage:\n  src: {kind: source}\n")
        XCTAssertTrue(f.contains { $0.hasPrefix("\(path):1:1: error: unknown top-level key 'stage'; did you mean 'stages'?") }, "\(f)")
        let g = try errors("stages:\n  src:\n    kind: source\n    parms: {count: 2}\n")
        XCTAssertTrue(g[0].hasPrefix("\(path):4:5: error: unknown key 'parms' in stage 'src'; did you mean 'params'?"), "\(g)")
    }

    func testPipelineNameMustBeUsableAsAFolderName() throws {
        let e = try errors("name: a/b\nstages:\n  src: {kind: source}\n")
        XCTAssertEqual(e, ["\(path):1:7: error: 'name' must be a non-empty string without '/' (it names the run directory runs/<name>)"])
    }

    func testYAMLSyntaxErrorHasPosition() throws {
        let e = try errors("stages:\n  src: {kind: source\n  tx: 3\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasPrefix("\(path):"), e[0])
        XCTAssertTrue(e[0].contains("invalid YAML"), e[0])
        let parts = e[0].split(separator: ":")
        XCTAssertNotNil(Int(parts[1]), e[0])
        XCTAssertNotNil(Int(parts[2]), e[0])
    }

    func testSeveralErrorsAreAllReportedInFileOrder() throws {
        let e = try errors("stages:\n  src:\n    kind: source\n    params: {count: x, txt: a}\n  out: {kind: snk}\n")
        XCTAssertEqual(e.count, 3, "\(e)")
        XCTAssertTrue(e[0].hasPrefix("\(path):4:21:"), e[0])
        XCTAssertTrue(e[1].hasPrefix("\(path):4:24:"), e[1])
        XCTAssertTrue(e[2].hasPrefix("\(path):5:15:"), e[2])
    }

    func testOverridesSetParametersStrategyParametersAndVariables() throws {
        let pipeline = try load(Self.valid, overrides: ["tx.factor=3.5", "tx.beta.initial=4", "n=7", "tx.mode=slow"])
        XCTAssertEqual(pipeline.stage(named: "tx")!.parameters["factor"], .double(3.5))
        XCTAssertEqual(pipeline.stage(named: "tx")!.parameters["mode"], .string("slow"))
        XCTAssertEqual(pipeline.stage(named: "src")!.parameters["count"], .int(7))
        XCTAssertEqual(pipeline.stage(named: "tx")!.parameters["beta"],
                       .strategy(StrategyChoice(name: "dual-gradient", parameters: ["initial": .int(4), "target": .double(0.2)])))
        let replaced = try load(Self.valid, overrides: ["tx.beta={name: constant, value: 2}"])
        XCTAssertEqual(replaced.stage(named: "tx")!.parameters["beta"], .strategy(StrategyChoice(name: "constant", parameters: ["value": .int(2)])))
    }

    func testBadOverridesAreReportedByTheirText() throws {
        let e = try errors(Self.valid, overrides: ["tz.factor=2"])
        XCTAssertEqual(e, ["--set tz.factor=2: error: no stage 'tz' in the pipeline; did you mean 'tx'?"])
        let f = try errors(Self.valid, overrides: ["tx.factor=big"])
        XCTAssertEqual(f, ["--set tx.factor=big: error: parameter 'factor' of stage 'tx' (transform) expects a number, got 'big'"])
        let g = try errors(Self.valid, overrides: ["tx.factr=2"])
        XCTAssertTrue(g[0].hasPrefix("--set tx.factr=2: error: unknown parameter 'factr' of stage 'tx' (transform); did you mean 'factor'?"), "\(g)")
        let h = try errors(Self.valid, overrides: ["m=2"])
        XCTAssertEqual(h, ["--set m=2: error: no variable 'm' in the pipeline; did you mean 'n'?"])
    }

    func testVariableWithoutValueMustBeSet() throws {
        let text = "vars:\n  words: ~\nstages:\n  src:\n    kind: source\n    params: {text: \"${words}\"}\n"
        let e = try errors(text)
        XCTAssertEqual(e, ["\(path):6:21: error: variable 'words' has no value; give one with --set words=VALUE"])
        XCTAssertEqual(try load(text, overrides: ["words=abc"]).stage(named: "src")!.parameters["text"], .string("abc"))
    }

    func testMissingRequiredParameter() throws {
        let registry = TestRegistry.make()
        registry.register(LoopStage.self)
        do {
            _ = try PipelineLoader(registry: registry).load(write("stages:\n  src: {kind: source}\n  l:\n    kind: loop\n    inputs: {data: src.data}\n    params: {}\n"))
            XCTFail("accepted")
        } catch let error as PipelineValidationError {
            XCTAssertEqual(error.diagnostics.map(\.description), ["\(path):3:3: error: stage 'l' (loop) is missing required parameter 'label' (string): a required label"])
        }
    }

    func testPathParametersResolveAgainstThePipelineFolder() throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "seed\n".write(to: directory.appendingPathComponent("data/seed.txt"), atomically: true, encoding: .utf8)
        let pipeline = try load("stages:\n  src:\n    kind: source\n    params: {seed_file: data/seed.txt}\n")
        XCTAssertEqual(pipeline.stage(named: "src")!.parameters["seed_file"], .string(directory.appendingPathComponent("data/seed.txt").standardizedFileURL.path))
    }

    func testGraphTextAndDot() throws {
        let pipeline = try load(Self.valid)
        let text = PipelineGraph.text(pipeline)
        XCTAssertTrue(text.contains("tx [transform]  in: data <- src.data  out: model (checkpoint)"), text)
        let dot = PipelineGraph.dot(pipeline)
        XCTAssertTrue(dot.hasPrefix("digraph \"test\" {"), dot)
        XCTAssertTrue(dot.contains("\"src\" -> \"tx\" [label=\"data\"];"), dot)
        XCTAssertTrue(dot.contains("\"tx\" -> \"out\" [label=\"model\"];"), dot)
    }

    func testEditDistance() {
        XCTAssertEqual(NameSuggestion.editDistance("train", "trian"), 1)
        XCTAssertEqual(NameSuggestion.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(NameSuggestion.editDistance("", "abc"), 3)
        XCTAssertEqual(NameSuggestion.closest(to: "trian", in: ["train", "ingest"]), "train")
        XCTAssertNil(NameSuggestion.closest(to: "zzz", in: ["train", "ingest"]))
    }

    func testBytesThatAreNotUTF8AreNamedWithTheirLineAndColumn() throws {
        var bytes = Array("name: x\nstages:\n  src: {kind: source, params: {text: caf".utf8)
        bytes += [0xE9]  // Latin-1 e-acute
        bytes += Array("}}\n".utf8)
        let url = directory.appendingPathComponent("latin1.yaml")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try PipelineLoader(registry: TestRegistry.make()).load(url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(":3:41:"), text)
            XCTAssertTrue(text.contains("not UTF-8 text: byte 0xE9 at offset 56"), text)
        }
    }

    func testATabInTheIndentationIsNamedAsATab() throws {
        let diagnostics = try errors("name: x\nstages:\n  src:\n\tkind: source\n")
        XCTAssertEqual(diagnostics, ["\(path):4:1: error: a tab character in the indentation: YAML indents with spaces only"])
    }

    func testAPathParameterNamingNothingFailsValidation() throws {
        let diagnostics = try errors("stages:\n  src:\n    kind: source\n    params: {seed_file: missing/file.txt}\n")
        XCTAssertEqual(diagnostics.count, 1)
        XCTAssertTrue(diagnostics[0].hasPrefix("\(path):4:"), diagnostics[0])
        XCTAssertTrue(diagnostics[0].contains("parameter 'seed_file' of stage 'src' (source): \(directory.appendingPathComponent("missing/file.txt").path) does not exist"), diagnostics[0])
    }
}

/// A stage that reads and writes datasets (to build cycles) and has a required parameter.
struct LoopStage: Stage {
    static let kind = "loop"
    static let documentation = "reads and writes a dataset"
    static let inputs = [PortSpec("data", .dataset, "input")]
    static let outputs = [PortSpec("data", .dataset, "output")]
    static let parameters = [ParameterSpec("label", .string, default: nil, "a required label")]
    init() {}
    func run(_ context: StageContext) throws {}
}
