import InkwellEngine

/// Keeping every rank's copy of the model identical: rank 0's values broadcast at start, and a
/// digest of the exact bits compared every few steps.
public enum Replicas {
    /// Copies rank `root`'s values of `tensors` into every rank's, in place.
    public static func broadcast(_ tensors: [Tensor], from root: Int = 0, over communicator: any Communicator) {
        guard communicator.isDistributed else { return }
        for t in tensors where t.count > 0 {
            communicator.broadcast(UnsafeMutableRawBufferPointer(t.buffer), root: root)
            t.storage.markMutated()
        }
    }

    /// A 64-bit digest of the tensors' exact bits (shapes included): equal digests mean, but for
    /// a 2^-64 chance, bit-identical values.
    public static func digest(_ tensors: [Tensor]) -> UInt64 {
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x27D4_EB2F_1656_67C5)
        let prime: UInt64 = 0x0000_0100_0000_01B3
        for t in tensors {
            lanes.0 = (lanes.0 ^ UInt64(t.count)) &* prime
            t.storage.pointer.withMemoryRebound(to: UInt32.self, capacity: t.count) { w in
                var i = 0
                while i + 4 <= t.count {
                    lanes.0 = (lanes.0 ^ UInt64(w[i])) &* prime
                    lanes.1 = (lanes.1 ^ UInt64(w[i + 1])) &* prime
                    lanes.2 = (lanes.2 ^ UInt64(w[i + 2])) &* prime
                    lanes.3 = (lanes.3 ^ UInt64(w[i + 3])) &* prime
                    i += 4
                }
                while i < t.count { lanes.0 = (lanes.0 ^ UInt64(w[i])) &* prime; i += 1 }
            }
        }
        var h = lanes.0
        for lane in [lanes.1, lanes.2, lanes.3] { h = (h ^ (lane >> 29) ^ lane) &* 0xBF58_476D_1CE4_E5B9 }
        return h ^ (h >> 31)
    }

    /// The ranks whose tensors differ from rank 0's (empty when every rank agrees). Collective.
    public static func divergentRanks(_ tensors: [Tensor], over communicator: any Communicator) -> [Int] {
        guard communicator.isDistributed else { return [] }
        let digests = communicator.gather(digest(tensors))
        return digests.indices.filter { digests[$0] != digests[0] }
    }
}
