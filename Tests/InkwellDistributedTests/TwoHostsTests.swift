import Foundation
import InkwellTestSupport
import XCTest

/// Two MPI "hosts" that talk TCP: two network namespaces joined by a veth pair, mpirun's remote
/// agent set to `ip netns exec` (../shared/recipes/mpi-two-hosts.md, with addresses instead of
/// /etc/hosts names). Needs root and `ip netns`; skips, printing why, without them.
final class TwoHostsTests: XCTestCase {
    func testGoldenStepOnTwoRanksInTwoNetworkNamespaces() throws {
        let mpirun = try MPIJob.launcher()
        let tool = try ChildProcess.inkwellTool()
        let tag = "\(getpid() % 100_000)"
        guard let ip = ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw skip("no ip command (scripts/setup installs iproute2)")
        }
        let (a, b, va, vb) = ("ikw\(tag)a", "ikw\(tag)b", "kv\(tag)a", "kv\(tag)b")
        let subnet = "10.78.\(getpid() % 250).0/24", prefix = "10.78.\(getpid() % 250)."
        let (hostA, hostB) = (prefix + "1", prefix + "2")
        func sh(_ command: String) throws -> (status: Int32, output: String) {
            try ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
        }
        let setup = try sh("""
            set -e; \(ip) netns add \(a); \(ip) netns add \(b); \(ip) link add \(va) type veth peer name \(vb)
            \(ip) link set \(va) netns \(a); \(ip) link set \(vb) netns \(b)
            \(ip) -n \(a) addr add \(hostA)/24 dev \(va); \(ip) -n \(b) addr add \(hostB)/24 dev \(vb)
            for n in \(a) \(b); do \(ip) -n $n link set lo up; done
            \(ip) -n \(a) link set \(va) up; \(ip) -n \(b) link set \(vb) up
            """)
        defer { _ = try? sh("\(ip) netns del \(a) 2>/dev/null; \(ip) netns del \(b) 2>/dev/null") }
        guard setup.status == 0 else { throw skip("network namespaces not permitted here: \(setup.output.split(separator: "\n").first ?? "")") }

        let dir = try SharedFixtures.temporaryDirectory(self)
        let agent = dir.appendingPathComponent("nsagent")
        try Data("""
            #!/bin/sh
            host=$1; shift
            case "$host" in \(hostA)) ns=\(a) ;; \(hostB)) ns=\(b) ;; *) ns=$host ;; esac
            exec \(ip) netns exec "$ns" sh -c "$*"

            """.utf8).write(to: agent)
        chmod(agent.path, 0o755)
        let set = SharedFixtures.repositoryRoot.appendingPathComponent("Tests/InkwellTrainingTests/Fixtures/train-step-odd-widths")
        let job = try ChildProcess.run(URL(fileURLWithPath: ip), [
            "netns", "exec", a, mpirun.path, "--allow-run-as-root", "--bind-to", "none", "--mca", "plm_rsh_agent", agent.path,
            "--mca", "oob_tcp_if_include", "\(va),\(vb)", "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", subnet,
            "-H", "\(hostA):1,\(hostB):1", "-np", "2", tool.path, "selftest", "--golden", set.path,
        ])
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("data-parallel train_step on 2 ranks"), job.output)
        XCTAssertTrue(job.output.contains("2/2 golden cases passed"), job.output)
    }

    private func skip(_ why: String) -> XCTSkip {
        let reason = "skipped: \(why)"
        print(reason)
        return XCTSkip(reason)
    }
}
