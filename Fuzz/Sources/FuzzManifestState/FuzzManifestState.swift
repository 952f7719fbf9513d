import Foundation
import FuzzDriver
import Inkwell

/// libFuzzer target: a dataset's manifest.json and a checkpoint's state.json. The same bytes are
/// decoded as both; what decodes is used as a loader and a resumed run would use it (frame
/// sizes and counts). Any bytes must decode or throw.
func fuzzManifestState(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = fuzzData(bytes, count)
    if let manifest = try? DatasetManifest.decode(data, file: "/fuzz/manifest.json") {
        _ = manifest.frameBytes
        _ = manifest.frameCount
        for split in Split.allCases { _ = manifest.frameCount(split) }
    }
    _ = try? Checkpoint.decodeState(data, file: "/fuzz/state.json")
    return 0
}
