import InkwellEngine

/// The loss of the step's reconstruction sub-update (SPEC.md section 3, sub-update 6), which
/// steps the encoder and decoder. Conformers: `FeatureMatchingLoss` ("feature-matching", the
/// seed's) and `FeatureAndPixelLoss` ("feature-matching+pixel").
///
/// A new loss is one new type registered with `StrategyRegistry.register(MyLoss.self)`; the
/// trainer finds it by `name` from the configuration (`reconstruction:`), with typed `Parameters`.
public protocol ReconstructionLoss: TrainingStrategy {

    /// The scalar loss to back-propagate, recorded for autograd.
    /// - Parameters:
    ///   - featureMatching: MSE between the discriminator's feature maps of the reconstruction
    ///     and of the images (the seed's loss, already computed: the step logs it as `feats`).
    ///   - reconstruction: G(E(x)), (N, C, H, W) in [-1, 1].
    ///   - images: x, (N, C, H, W) in [-1, 1], a constant.
    func loss(featureMatching: Tensor, reconstruction: Tensor, images: Tensor) -> Tensor
}

/// The seed's reconstruction loss: feature matching alone. No parameters.
public final class FeatureMatchingLoss: ReconstructionLoss {
    public struct Parameters: StrategyParameters { public init() {} }
    public static let name = "feature-matching"
    public static let documentation = "MSE between the discriminator's features of G(E(x)) and of x (the seed's)"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func loss(featureMatching: Tensor, reconstruction: Tensor, images: Tensor) -> Tensor { featureMatching }
}
