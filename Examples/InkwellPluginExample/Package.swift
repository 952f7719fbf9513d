// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// A path dependency's package identity is the name of its folder, which depends on where Inkwell
/// was cloned; compute it so the manifest works in any checkout.
let inkwellFolder = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("../..").standardized
let inkwellIdentity = inkwellFolder.lastPathComponent

/// An Inkwell plugin built outside Inkwell's package: a stage (`crop-hud`) and a beta strategy
/// (`log-dual-gradient`) that pipeline files use by name after listing this package's library
/// under `plugins:`. Build with `swift build` in this folder; the library is
/// `.build/debug/libInkwellPluginExample.so` (or `.build/release/...` with `-c release`).
let package = Package(
    name: "InkwellPluginExample",
    products: [
        // A dynamic library: the file a pipeline's `plugins:` names.
        .library(name: "InkwellPluginExample", type: .dynamic, targets: ["InkwellPluginExample"]),
    ],
    dependencies: [
        // Inkwell itself, by path (a released plugin would use its Git URL).
        .package(path: "../.."),
    ],
    targets: [
        .target(
            name: "InkwellPluginExample",
            dependencies: [.product(name: "Inkwell", package: inkwellIdentity)]
        ),
    ],
    swiftLanguageModes: [.v5]
)
