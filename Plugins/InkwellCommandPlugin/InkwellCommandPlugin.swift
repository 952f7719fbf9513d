import Foundation
import PackagePlugin

/// `swift package inkwell ARGS...`: builds the `inkwell` tool (release by default; `--debug`
/// first to use a debug build) and runs it with ARGS in the package folder, e.g.
///
///     swift package --allow-writing-to-package-directory inkwell run pipelines/demo.yaml
///
/// Pipelines write their run directory (runs/<name>) inside the package, hence the permission.
@main
struct InkwellCommandPlugin: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var arguments = arguments
        var configuration = PackageManager.BuildConfiguration.release
        if arguments.first == "--debug" {
            arguments.removeFirst()
            configuration = .debug
        }
        var parameters = PackageManager.BuildParameters(configuration: configuration)
        parameters.logging = .concise
        let build = try packageManager.build(.product("inkwell"), parameters: parameters)
        guard build.succeeded else {
            Diagnostics.error("building inkwell failed:\n\(build.logText)")
            throw PluginFailure(message: "building inkwell failed")
        }
        guard let tool = build.builtArtifacts.first(where: { $0.kind == .executable && $0.url.lastPathComponent == "inkwell" }) else {
            throw PluginFailure(message: "the build produced no inkwell executable")
        }
        let process = Process()
        process.executableURL = tool.url
        process.arguments = arguments
        process.currentDirectoryURL = context.package.directoryURL
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PluginFailure(message: "inkwell \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
    }
}

struct PluginFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
