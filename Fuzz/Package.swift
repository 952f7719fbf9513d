// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Inkwell's libFuzzer targets, one per parser of untrusted input (see docs/RELIABILITY.md).
/// A package of its own, depending on Inkwell by path, so the main build never sees fuzzer flags.
/// Build and run through `scripts/fuzz TARGET SECONDS`, which builds with
/// `-Xswiftc -sanitize=fuzzer,address`. Each target exports its input handler as
/// `LLVMFuzzerTestOneInput` (what libFuzzer's own `main` calls) and its `main` hands the same
/// handler to libFuzzer (`FuzzDriver`), since SwiftPM gives every executable a `main` of its own.
let inkwellFolder = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("..").standardized
let inkwellIdentity = inkwellFolder.lastPathComponent

let fuzzTargets = ["FuzzSafeTensors", "FuzzNPYHeader", "FuzzManifestState", "FuzzPipelineFile", "FuzzPluginNames"]

let package = Package(
    name: "InkwellFuzz",
    dependencies: [.package(path: "..")],
    targets: [.target(name: "FuzzDriver")] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzDriver", .product(name: "Inkwell", package: inkwellIdentity)])
    },
    swiftLanguageModes: [.v5]
)
