// The registry of golden suites, in its own file so each suite's owner adds one line here.

/// The golden suites `inkwell selftest` runs (each where its files are present), in order.
public enum GoldenSuites {
    public static var all: [any GoldenSuite.Type] { [
        GoldenOps.self,
        TrainStepGolden.self,
    ] }
}

// The ops cases share one tolerance (`inkwell selftest --tolerance`).
extension GoldenOps: GoldenSuiteWithTolerance {}
