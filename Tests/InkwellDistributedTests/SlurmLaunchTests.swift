import Foundation
import InkwellTestSupport
import XCTest

/// Launching under Slurm (docs/DISTRIBUTED.md): `srun` without an MPI plugin is refused, and,
/// where a Slurm cluster answers on this machine, `srun --mpi=pmix -n 2` runs the golden step on
/// two ranks.
final class SlurmLaunchTests: XCTestCase {
    static let golden = SharedFixtures.repositoryRoot.appendingPathComponent("Tests/InkwellTrainingTests/Fixtures/train-step-odd-widths")

    /// Two tasks of one Slurm step without PMI/PMIx would each run the whole job alone: refused.
    func testSeveralSlurmTasksWithoutAnMPIPluginAreRefused() throws {
        let job = try ChildProcess.run(try ChildProcess.inkwellTool(), ["selftest", "--golden", Self.golden.path],
                                       environment: ["SLURM_STEP_NUM_TASKS": "2", "SLURM_PROCID": "1", "PMIX_RANK": nil,
                                                     "PMI_RANK": nil, "PMI_SIZE": nil, "OMPI_COMM_WORLD_SIZE": nil])
        XCTAssertEqual(job.status, 64, job.output)
        XCTAssertTrue(job.output.contains("srun started 2 tasks without an MPI plugin"), job.output)
        XCTAssertTrue(job.output.contains("--mpi=pmix"), job.output)
    }

    /// `srun -n 2 --mpi=pmix inkwell selftest`: skipped, printing why, without a Slurm that
    /// answers (`sinfo`) and has two free CPUs within 30 s.
    func testSrunRunsTheGoldenStepOnTwoRanks() throws {
        guard let srun = MPIJob.onPath("srun"), let sinfo = MPIJob.onPath("sinfo"),
              (try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/timeout"), ["10", sinfo.path]))?.status == 0 else {
            let reason = "skipped: no Slurm answers on this machine (srun, sinfo)"
            print(reason)
            throw XCTSkip(reason)
        }
        let job = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/timeout"),
                                       ["300", srun.path, "--immediate=30", "-n", "2", "--mpi=pmix", try ChildProcess.inkwellTool().path,
                                        "selftest", "--golden", Self.golden.path])
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("data-parallel train_step on 2 ranks"), job.output)
        XCTAssertTrue(job.output.contains("2/2 golden cases passed"), job.output)
    }
}
