import Foundation

/// One fuzz input: the bytes and their count, as libFuzzer passes them. Returns 0.
public typealias FuzzInputHandler = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// libFuzzer's entry point for programs with a `main` of their own (SwiftPM gives every executable
/// target one); it parses libFuzzer's command line and runs `callback` on each input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: FuzzInputHandler) -> CInt

/// Runs libFuzzer with this process's arguments over `handler`, then exits with its status.
public func runFuzzer(_ handler: FuzzInputHandler) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, handler))
}

/// The input as `Data` (empty when libFuzzer passes no bytes).
public func fuzzData(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Data {
    bytes.map { Data(bytes: $0, count: count) } ?? Data()
}
