/// How to make a tensor's values again from a source tensor (see `Tensor.recomputation`).
struct Recomputation {
    /// The source's values (read by `make`; registered for the in-place modification check).
    let source: TensorStorage
    /// Computes the values again, unrecorded.
    let make: () -> Tensor
}

/// A tensor an op's backward reads: the values themselves, or, for a tensor with a
/// `Recomputation`, the recipe, run when the backward asks for the value. A padded copy that
/// only a convolution's weight gradient reads is then not kept from the forward to the backward
/// (nor made at all by a backward that needs no weight gradient).
struct SavedTensor {
    private let tensor: Tensor?
    private let recomputation: Recomputation?

    init(_ tensor: Tensor) {
        if let recomputation = tensor.recomputation {
            self.tensor = nil
            self.recomputation = recomputation
        } else {
            self.tensor = tensor.detached()
            self.recomputation = nil
        }
    }

    /// The storage holding what this keeps (for `recorded(savingStorages:)`).
    var storage: TensorStorage { recomputation?.source ?? tensor!.storage }

    /// The tensor's values.
    func value() -> Tensor {
        if let tensor { return tensor }
        return withoutGrad { recomputation!.make() }
    }
}
