// swift-tools-version: 6.0
import PackageDescription

/// Inkwell: gameplay videos to a trained VAE-GAN, in Swift, on the CPU.
///
/// The targets follow the architecture, one concern each:
/// - `InkwellEngine`: tensors, reverse-mode autograd and the primitive ops (over OpenBLAS).
/// - `InkwellNN`: modules, layers, initialisers, optimizers, safetensors.
/// - `InkwellGolden`: checks the engine against PyTorch's golden values (`inkwell selftest`).
/// - `Inkwell`: the library product that plugins and users depend on (re-exports the rest).
/// - `inkwell`: the command-line tool.
let package = Package(
    name: "Inkwell",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Inkwell", targets: ["Inkwell"]),
        .executable(name: "inkwell", targets: ["inkwell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "InkwellEngine",
            dependencies: ["COpenBLAS"]
        ),
        .target(
            name: "InkwellNN",
            dependencies: ["InkwellEngine"]
        ),
        .target(
            name: "InkwellGolden",
            dependencies: ["InkwellEngine", "InkwellNN"]
        ),
        .target(
            name: "Inkwell",
            dependencies: ["InkwellEngine", "InkwellNN", "InkwellGolden"]
        ),
        .executableTarget(
            name: "inkwell",
            dependencies: [
                "Inkwell",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "InkwellEngineTests",
            dependencies: ["InkwellEngine", "InkwellNN", "InkwellGolden"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
