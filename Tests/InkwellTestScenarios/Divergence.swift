import Foundation
import InkwellDistributed
import InkwellEngine
import InkwellMPI
import InkwellTraining

/// `inkwell-test-scenarios diverge DATA CONFIG RUN RANK STEP`, under an MPI launcher: trains as
/// `inkwell train` does, and after step STEP adds 0.001 to one weight of rank RANK's model, which
/// no production path can do. The replica check must then stop the job, naming RANK, before a
/// checkpoint holds the divergent weights (DataParallelTrainingTests).
func diverge(_ arguments: [String]) -> Int32 {
    guard arguments.count == 5, let rank = Int(arguments[3]), let after = Int(arguments[4]) else {
        FileHandle.standardError.write(Data("usage: inkwell-test-scenarios diverge DATA CONFIG RUN RANK STEP\n".utf8))
        return 64
    }
    guard let world = oneThreadedRank("diverge") else { return 64 }
    World.communicator = world
    do {
        let configuration = try TrainingConfiguration.load(from: URL(fileURLWithPath: arguments[1]))
        let trainer = try Trainer(configuration: configuration, runDirectory: URL(fileURLWithPath: arguments[2]),
                                  dataset: URL(fileURLWithPath: arguments[0]), resume: false, communicator: world)
        try trainer.run(progress: { progress in
            guard progress.step == after, world.rank == rank else { return }
            let weight = trainer.model.parameters[0]
            weight.pointer[0] += 0.001
            weight.storage.markMutated()
            print("scenario diverge: perturbed rank \(rank)'s weights after step \(after)")
            fflush(nil)
        })
    } catch {
        world.abort("\(error)", code: 1)
    }
    print("scenario diverge finished without stopping")
    return 0
}

/// The MPI world, with one thread for OpenBLAS and the engine (as `inkwell train --threads 1`);
/// nil, saying so, when `scenario` was not started by an MPI launcher.
func oneThreadedRank(_ scenario: String) -> MPICommunicator? {
    guard let world = MPICommunicator.launchedWorld() else {
        FileHandle.standardError.write(Data("inkwell-test-scenarios \(scenario): start it with mpirun\n".utf8))
        return nil
    }
    BLAS.threads = 1
    Parallel.workers = 1
    return world
}
