import InkwellEngine

/// Updates a fixed list of parameters in place from their accumulated gradients.
///
/// Parameters whose `grad` is nil are skipped (their state does not advance), as in PyTorch.
public protocol Optimizer: AnyObject {
    var parameters: [Tensor] { get }
    /// One update of every parameter that has a gradient.
    func step()
    /// The optimizer's state as named tensors (for checkpoints); `loadState` restores it.
    func stateTensors() -> [(String, Tensor)]
    func loadState(_ state: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears the gradients of this optimizer's parameters.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// A problem restoring optimizer state.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
