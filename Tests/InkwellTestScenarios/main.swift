import Foundation
import InkwellEngine

// `inkwell-test-scenarios`: the child processes of tests that need a fresh process, run by
// InkwellEngineTests through `ChildProcess.testScenarios()`. Not a test itself:
//   inkwell-test-scenarios crash NAME   runs a scenario that must stop the process (AutogradTests)
//   inkwell-test-scenarios reexec       re-executes with OpenBLAS's settings, then prints what it
//                                       saw (BLASEnvironmentTests)
//   inkwell-test-scenarios diverge ...  under mpirun: trains, and makes one rank's weights differ
//                                       mid-run (Divergence.swift, DataParallelTrainingTests)
//   inkwell-test-scenarios sums ...     under mpirun: steps with blocking or overlapped gradient
//                                       sums, printing a digest (GradientSums.swift)
//   inkwell-test-scenarios factors      under mpirun: linear weight gradients from the gathered
//                                       rows of the global batch (LinearFactors.swift)

/// Scenarios that must stop the process with a message; reaching the end is a failure (status 0
/// and a line saying so, which the test reports).
func crash(_ name: String) -> Int32 {
    switch name {
    case "backwardTwice":
        let x = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let loss = (x * x).sum()
        loss.backward()
        loss.backward()
    case "addMismatch":
        _ = Tensor(zeros: [2, 3]) + Tensor(zeros: [3, 2])
    case "convMismatch":
        _ = conv2d(Tensor(zeros: [1, 3, 8, 8]), weight: Tensor(zeros: [4, 2, 3, 3]))
    case "linearMismatch":
        _ = linear(Tensor(zeros: [2, 5]), weight: Tensor(zeros: [3, 4]), bias: nil)
    case "inPlaceAfterForward":
        let w = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let loss = (w * w).sum()
        w.copy(from: Tensor(shape: [2], values: [5, 6]))
        loss.backward()
    case "inPlaceUnderPaddingRecipe":
        // The convolution keeps x to pad again: modifying x is caught as well.
        let x = Tensor(zeros: [1, 1, 4, 4], requiresGrad: true)
        let weight = Tensor(zeros: [1, 1, 3, 3], requiresGrad: true)
        let loss = conv2d(reflectionPad2d(x, Padding2D(1)), weight: weight).sum()
        x.copy(from: Tensor(repeating: 1, shape: [1, 1, 4, 4]))
        loss.backward()
    default:
        FileHandle.standardError.write(Data("inkwell-test-scenarios: unknown crash scenario '\(name)'\n".utf8))
        return 64
    }
    print("scenario \(name) finished without stopping")
    return 0
}

/// `BLAS.reexecWithTunedEnvironmentIfNeeded()` in a fresh process: prints the OpenBLAS setting
/// and the marker variable the re-executed process saw.
func reexec() -> Int32 {
    BLAS.reexecWithTunedEnvironmentIfNeeded()
    let environment = ProcessInfo.processInfo.environment
    let value = environment["OPENBLAS_THREAD_TIMEOUT"] ?? "unset"
    let marker = environment["INKWELL_REEXEC_MARKER"] ?? ""
    print("REEXEC OPENBLAS_THREAD_TIMEOUT=\(value) marker=\(marker) pid=\(getpid())")
    return 0
}

let arguments = CommandLine.arguments.dropFirst()
switch (arguments.first, arguments.count) {
case ("crash", 2): exit(crash(arguments[arguments.startIndex + 1]))
case ("reexec", 1): exit(reexec())
case ("diverge", _): exit(diverge(Array(arguments.dropFirst())))
case ("sums", _): exit(gradientSums(Array(arguments.dropFirst())))
case ("factors", _): exit(linearFactors(Array(arguments.dropFirst())))
default:
    FileHandle.standardError.write(Data("usage: inkwell-test-scenarios crash NAME | reexec | diverge DATA CONFIG RUN RANK STEP | sums MODE BUCKET_BYTES STEPS CONFIG | factors\n".utf8))
    exit(64)
}
