import FuzzDriver

/// What libFuzzer's own `main` would call; the `main` below hands the same handler to libFuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzzNPYHeader(bytes, count) }

runFuzzer(fuzzNPYHeader)
