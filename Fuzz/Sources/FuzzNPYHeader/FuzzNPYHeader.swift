import Foundation
import FuzzDriver
import Inkwell

/// libFuzzer target: the `.npy` header (as a uint8 frame shard and as a float32 matrix) and the
/// float32 reader behind `decode` and `sample --latents`. Any bytes must parse or throw.
func fuzzNPYHeader(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = fuzzData(bytes, count)
    data.withUnsafeBytes { raw in
        _ = try? NPYFormat.parseHeader(raw)
        _ = try? NPYFormat.parseHeader(raw, dtypes: FloatNPY.descriptors)
    }
    _ = try? FloatNPY.decode(data, file: "/fuzz/input.npy")
    return 0
}
