// swift-tools-version: 6.0
import PackageDescription

/// Inkwell: gameplay videos to a trained VAE-GAN, in Swift, on the CPU.
///
/// One target per concern; the folder tree under Sources/ is the architecture:
/// - `InkwellFiles`: atomic file writes, and the small value types every module shares
///   (`JSONValue`, `StrategyChoice`, `FileError`, `DurationFormat`).
/// - `InkwellEngine`: tensors, reverse-mode autograd and the primitive ops (over OpenBLAS).
/// - `InkwellNN`: modules, layers, initialisers, optimizers, safetensors.
/// - `InkwellVideo`: decoding and encoding through the FFmpeg libraries, in-process.
/// - `InkwellDataset`: the sharded frame dataset: ingest, manifest, splits, loader.
/// - `InkwellTraining`: the VAE-GAN, its training step, KLD and beta strategies, checkpoints.
/// - `InkwellReport`: evaluation figures, plots and the HTML run report.
/// - `InkwellPipeline`: the stage protocol, pipeline files and the stage-graph runner.
/// - `InkwellStages`: the built-in stages (synth, ingest, preprocess, train, evaluate, export).
/// - `InkwellDistributed`: data-parallel training's `Communicator` (one process by default),
///   gradient buckets, replica checks (docs/DISTRIBUTED.md).
/// - `InkwellMPI`: the `Communicator` over MPI (OpenMPI), chosen when an MPI launcher started us.
/// - `InkwellBenchmarks`: what `inkwell bench` measures (ops, ingest, a step's FLOPs); no
///   library target depends on it.
/// - `InkwellGolden`: checks the engine and the step against PyTorch's values (`inkwell selftest`).
/// - `Inkwell`: the library product that plugins and users depend on (re-exports the rest).
/// - `inkwell`: the command-line tool.
let package = Package(
    name: "Inkwell",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Inkwell", type: .dynamic, targets: ["Inkwell"]),
        .executable(name: "inkwell", targets: ["inkwell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libswscale libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        // OpenMPI; shim.h returns the handles its macros hide from Swift (MPI_COMM_WORLD, MPI_FLOAT, ...).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // Hand-vectorised C kernels (AVX-512 chosen at run time) for what gemm lowering does badly.
        .target(name: "CInkwellKernels"),
        // Atomic file writes (temporary name, fsync, rename): how every module writes its files.
        .target(name: "InkwellFiles"),
        .target(name: "InkwellEngine", dependencies: ["COpenBLAS", "CInkwellKernels"]),
        .target(name: "InkwellNN", dependencies: ["InkwellEngine", "InkwellFiles"]),
        .target(name: "InkwellDistributed", dependencies: ["InkwellEngine"]),
        .target(name: "InkwellMPI", dependencies: ["CMPI", "InkwellDistributed", "InkwellEngine"]),
        .target(name: "InkwellVideo", dependencies: ["CFFmpeg", "InkwellFiles"]),
        .target(
            name: "InkwellDataset",
            dependencies: ["InkwellVideo", "InkwellEngine", "InkwellFiles", "InkwellDistributed", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "InkwellTraining", dependencies: ["InkwellEngine", "InkwellNN", "InkwellDistributed", "InkwellDataset", "InkwellVideo", "InkwellFiles", "Yams"]),
        .target(name: "InkwellReport", dependencies: ["InkwellVideo", "InkwellTraining", "InkwellFiles", "InkwellPipeline"]),
        .target(
            name: "InkwellPipeline",
            dependencies: ["InkwellFiles", "Yams", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "InkwellStages",
            dependencies: ["InkwellFiles", "InkwellPipeline", "InkwellTraining", "InkwellDataset", "InkwellVideo", "InkwellReport", "InkwellDistributed"]
        ),
        .target(name: "InkwellBenchmarks", dependencies: ["InkwellEngine", "InkwellVideo", "InkwellTraining"]),
        .target(name: "InkwellGolden", dependencies: ["InkwellEngine", "InkwellNN", "InkwellTraining", "InkwellDistributed"]),
        .target(
            name: "Inkwell",
            dependencies: [
                "InkwellFiles", "InkwellEngine", "InkwellNN", "InkwellVideo", "InkwellDataset", "InkwellTraining",
                "InkwellReport", "InkwellPipeline", "InkwellStages", "InkwellGolden", "InkwellDistributed",
            ]
        ),
        .executableTarget(
            name: "inkwell",
            dependencies: ["Inkwell", "InkwellMPI", "InkwellBenchmarks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            // Plugins (docs/PLUGINS.md) are shared libraries built against the `Inkwell` product; the
            // executable exports its symbols so a plugin binds to the host's copy of Inkwell's modules
            // (one StageRegistry, one StrategyRegistry, one set of protocol descriptors).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]
        ),

        // Tests. `InkwellTestSupport` finds ../shared (or skips with a printed reason).
        .target(name: "InkwellTestSupport", dependencies: ["InkwellDataset"], path: "Tests/InkwellTestSupport"),
        // The child processes of tests that need a fresh process (a crash, a re-execution, a rank
        // made to diverge under mpirun): an executable, not a test, so nothing that always passes
        // is counted among the tests.
        .executableTarget(name: "inkwell-test-scenarios", dependencies: ["InkwellEngine", "InkwellDistributed", "InkwellTraining", "InkwellMPI"],
                          path: "Tests/InkwellTestScenarios"),
        .testTarget(name: "InkwellFilesTests", dependencies: ["InkwellFiles"]),
        .testTarget(name: "InkwellEngineTests", dependencies: ["InkwellEngine", "InkwellNN", "InkwellGolden", "InkwellTestSupport"]),
        // FFmpegAgreementTests compares the decoder with the ffmpeg program through the ingest bench's runner.
        .testTarget(name: "InkwellVideoTests", dependencies: ["InkwellVideo", "InkwellBenchmarks", "InkwellTestSupport"]),
        .testTarget(name: "InkwellDatasetTests", dependencies: ["InkwellDataset", "InkwellVideo", "InkwellEngine", "InkwellTestSupport"]),
        // Fixtures/: a train_step golden set written by scripts/golden-sweep (odd widths, batch 3,
        // each sub-update's gradients), read from disk by GoldenTrainStepTests.
        .testTarget(name: "InkwellTrainingTests", dependencies: ["InkwellTraining", "InkwellGolden", "InkwellDataset", "InkwellTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "InkwellReportTests", dependencies: ["InkwellReport", "InkwellTraining", "InkwellDataset", "InkwellPipeline", "InkwellTestSupport"]),
        // Real MPI jobs (`mpirun -np 2` of the built tool): exactness, faults, resume, two hosts.
        .testTarget(name: "InkwellDistributedTests",
                    dependencies: ["InkwellDistributed", "InkwellTraining", "InkwellDataset", "InkwellVideo", "InkwellTestSupport"]),
        .testTarget(name: "InkwellPipelineTests", dependencies: ["InkwellPipeline", "InkwellTestSupport"]),
        // The built `inkwell` run as a user runs it: exit statuses, validation messages, signals.
        .testTarget(name: "InkwellCLITests", dependencies: ["InkwellTraining", "InkwellDataset", "InkwellVideo", "InkwellTestSupport"]),
        .testTarget(name: "InkwellStagesTests", dependencies: ["InkwellStages", "InkwellTraining", "InkwellDataset", "InkwellTestSupport"]),

        // `swift package --allow-writing-to-package-directory inkwell run pipelines/demo.yaml`:
        // builds the tool (release) and runs it in the package folder.
        .plugin(
            name: "InkwellCommandPlugin",
            capability: .command(
                intent: .custom(verb: "inkwell", description: "Build and run the inkwell tool, e.g. `inkwell run pipelines/demo.yaml`."),
                permissions: [.writeToPackageDirectory(reason: "pipelines write their run directory (runs/<pipeline name>) in the package")]
            ),
            // No `dependencies: ["inkwell"]`: the plugin builds the tool itself (packageManager.build),
            // and a dependency would make every `swift build` compile all targets a second time
            // for the host (the `-tool` copies).
            path: "Plugins/InkwellCommandPlugin"
        ),
    ],
    swiftLanguageModes: [.v6]
)
