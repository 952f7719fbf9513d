import Foundation
import FuzzDriver
import Inkwell

/// libFuzzer target: the safetensors reader. Any bytes must give a `SafeTensorsFile` whose every
/// tensor reads (as Float and, for integer dtypes, as integers) or a thrown `SafeTensorsError`.
func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = fuzzData(bytes, count)
    guard let file = try? SafeTensorsFile(data: data, url: URL(fileURLWithPath: "/fuzz/input.safetensors")) else { return 0 }
    for entry in file.entries {
        _ = try? file.tensor(entry.name)
        _ = try? file.integers(entry.name)
        _ = try? file.tensor(entry.name, shape: [1])
    }
    _ = try? file.entry("missing")
    return 0
}
