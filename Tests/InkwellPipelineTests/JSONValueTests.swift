import Foundation
@testable import InkwellPipeline
import XCTest

/// The one JSON value type (InkwellFiles) and the one strategy-choice type, as every module uses them.
final class JSONValueTests: XCTestCase {
    func testDecodesIntegersAndNumbersApartAndRoundTrips() throws {
        let text = #"{"a": 2, "b": 0.5, "c": true, "d": "x", "e": [1, null], "f": {"g": -3}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        XCTAssertEqual(value, .object(["a": .int(2), "b": .double(0.5), "c": .bool(true), "d": .string("x"),
                                       "e": .array([.int(1), .null]), "f": .object(["g": .int(-3)])]))
        let again = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        XCTAssertEqual(again, value)
        XCTAssertEqual(value.value(at: "f.g")?.double, -3)
        XCTAssertEqual(value["b"]?.int, nil)
        XCTAssertEqual(value["a"]?.int, 2)
        XCTAssertEqual(value["d"]?.double, nil)
        XCTAssertEqual(value.flattened().map(\.key), ["a", "b", "c", "d", "e", "f.g"])
    }

    func testDescriptionAndJSONObjectKeepIntegersWhole() throws {
        XCTAssertEqual(JSONValue.int(2).description, "2")
        XCTAssertEqual(JSONValue.double(1e-4).description, "0.0001")
        XCTAssertEqual(JSONValue.array([.string("a"), .int(1)]).description, "[a, 1]")
        let data = try JSONSerialization.data(withJSONObject: JSONValue.object(["n": .int(2), "x": .double(0.25)]).jsonObject, options: [.sortedKeys])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"n":2,"x":0.25}"#)
    }

    func testStrategyChoiceIsANameOrAnObjectWithAName() throws {
        let bare = try JSONDecoder().decode(StrategyChoice.self, from: Data(#""batch""#.utf8))
        XCTAssertEqual(bare, StrategyChoice(name: "batch"))
        let full = try JSONDecoder().decode(StrategyChoice.self, from: Data(#"{"target": 0.2, "name": "dual-gradient", "initial": 4}"#.utf8))
        XCTAssertEqual(full, StrategyChoice(name: "dual-gradient", parameters: ["target": .double(0.2), "initial": .int(4)]))
        XCTAssertEqual(full.description, "dual-gradient {initial: 4, target: 0.2}")
        XCTAssertEqual(JSONValue.strategy(full).description, full.description)
        XCTAssertEqual(StrategyChoice(JSONValue.strategy(full)), full)
        XCTAssertNil(StrategyChoice(.object(["target": .double(1)])))
        XCTAssertThrowsError(try JSONDecoder().decode(StrategyChoice.self, from: Data(#"{"target": 1}"#.utf8)))
        // One object: the name beside the parameters (keys sorted here, as JSON objects have no order).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(String(decoding: try encoder.encode(full), as: UTF8.self), #"{"initial":4,"name":"dual-gradient","target":0.2}"#)
    }

    func testFlagValuesAreCheckedAgainstTheDeclaration() throws {
        let specs = [
            ParameterSpec("count", .int, default: .int(3), "how many", check: ParameterSpec.range(1, 10)),
            ParameterSpec("mode", .choice(["a", "b"]), default: .string("a"), "which"),
            ParameterSpec("name", .string, default: nil, "required"),
        ]
        let flag: (String) -> String = { "--" + $0 }
        let resolved = try specs.resolve(["mode": .string("b")], flag: flag)
        XCTAssertEqual(resolved.values, ["count": .int(3), "mode": .string("b")])
        XCTAssertThrowsError(try specs.resolve(["count": .int(0)], flag: flag)) { error in
            XCTAssertEqual("\(error)", "--count must be at least 1, got 0")
        }
        XCTAssertThrowsError(try specs.resolve(["mode": .string("c")], flag: flag)) { error in
            XCTAssertEqual("\(error)", "--mode must be one of a, b, got c")
        }
        XCTAssertEqual(specs[named: "count"].documentation, "how many")
    }
}
