import Foundation
import InkwellDistributed
import InkwellEngine
import InkwellMPI
import InkwellTraining

/// `inkwell-test-scenarios factors`, under an MPI launcher: a linear layer's weight gradient in a
/// data-parallel step, made from the global batch's gathered rows (`linear`), against the
/// product over the whole batch computed here in double precision. Checks, on every rank:
/// - a large layer (in 2048, out 600, batch 5: 5 x 2648 values gathered against 1,228,800
///   summed): the gradient is the global one, marked summed, and the gradient reducer sums only
///   the bias (2400 bytes);
/// - a small layer (in 40, out 24: under `GlobalBatch.factorGatherMinimum`) and a narrow one
///   (in 4, out 3: rows larger than the gradient): the gradient is this rank's share, which the
///   reducer sums;
/// - a weight whose gradient has a second, local part (an elementwise term every rank adds):
///   the local part is summed over the ranks before it is added.
/// Rank 0 prints "factors: ok", or each failure; every rank exits 1 on a failure.
func linearFactors(_ arguments: [String]) -> Int32 {
    guard arguments.isEmpty, let world = oneThreadedRank("factors") else { return 64 }
    let rows = try! BatchSplit(global: 5, ranks: world.size).rows(of: world.rank)
    var failures: [String] = []
    func check(_ ok: Bool, _ what: String) { if !ok { failures.append(what) } }

    for (name, inFeatures, outFeatures, elementwise) in [("large", 2048, 600, false), ("small", 40, 24, false), ("narrow", 4, 3, false), ("mixed", 2048, 600, true)] {
        var generator = RandomGenerator(seed: UInt64(inFeatures * 100 + outFeatures))
        let x = Tensor.uniform([5, inFeatures], low: -1, high: 1, using: &generator)
        let g = Tensor.uniform([5, outFeatures], low: -1, high: 1, using: &generator)
        let c = Tensor.uniform([outFeatures, inFeatures], low: -1, high: 1, using: &generator)
        let weight = Tensor.uniform([outFeatures, inFeatures], low: -1, high: 1, using: &generator)
        weight.requiresGrad = true
        let bias = Tensor(zeros: [outFeatures], requiresGrad: true)
        let reducer = GradientReducer(communicator: world)
        GlobalBatch.spanning(world) {
            var loss = (linear(x.rows(rows), weight: weight, bias: bias) * g.rows(rows)).sum()
            if elementwise { loss = loss + (weight * c).sum() }
            reducer.backward(loss, to: [weight, bias])
        }
        let factors = GlobalBatch.gathersFactors(inFeatures: inFeatures, outFeatures: outFeatures, rows: 5)
        check(weight.grad?.isSummedOverGlobalBatch == factors, "\(name): weight gradient marked summed: \(weight.grad?.isSummedOverGlobalBatch as Any), expected \(factors)")
        // The mixed case's local part is summed by the accumulation, not the reducer.
        let expectedBytes = (factors ? outFeatures : outFeatures * (inFeatures + 1)) * 4
        check(reducer.bytesReduced == expectedBytes, "\(name): \(reducer.bytesReduced) bytes summed, expected \(expectedBytes)")
        var worst = 0.0
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                var exact = elementwise ? Double(world.size) * Double(c.pointer[o * inFeatures + i]) : 0
                for n in 0..<5 { exact += Double(g.pointer[n * outFeatures + o]) * Double(x.pointer[n * inFeatures + i]) }
                worst = max(worst, abs(Double(weight.grad!.pointer[o * inFeatures + i]) - exact))
            }
        }
        check(worst < 1e-5, "\(name): weight gradient off the global batch's by \(worst)")
        var biasWorst = 0.0
        for o in 0..<outFeatures {
            let exact = (0..<5).reduce(0.0) { $0 + Double(g.pointer[$1 * outFeatures + o]) }
            biasWorst = max(biasWorst, abs(Double(bias.grad!.pointer[o]) - exact))
        }
        check(biasWorst < 1e-5, "\(name): bias gradient off by \(biasWorst)")
    }
    if world.isRoot { print(failures.isEmpty ? "factors: ok" : failures.map { "factors: FAIL \($0)" }.joined(separator: "\n")) }
    return failures.isEmpty ? 0 : 1
}
