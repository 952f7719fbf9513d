/// How to make a tensor's values again from a source tensor (see `Tensor.recomputation`).
struct Recomputation {
    /// The source's values (read by `make`; registered for the in-place modification check).
    let source: TensorStorage
    /// Computes the values of image `i` (along the leading axis) again, into a buffer of one
    /// image's values.
    let makeImage: (_ i: Int, _ into: UnsafeMutablePointer<Float>) -> Void
}

/// A tensor an op's backward reads: the values themselves, or, for a tensor with a
/// `Recomputation`, the recipe, run image by image when the backward reads an image. A padded
/// copy that only a convolution's weight gradient reads is then neither kept from the forward
/// to the backward nor made whole again (nor made at all by a backward that needs no weight
/// gradient).
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

    /// Runs `body` with the values of image `i` (`imageSize` values along the leading axis): the
    /// kept ones, or ones made again into a scratch buffer for the call.
    func withImage<R>(_ i: Int, size imageSize: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        if let tensor { return body(tensor.pointer + i * imageSize) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(imageSize, 1))
        defer { scratch.deallocate() }
        recomputation!.makeImage(i, scratch)
        return body(scratch)
    }
}
