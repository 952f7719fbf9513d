import InkwellEngine

/// Feature matching plus a weighted pixel loss: `features * feats + weight * pixel(G(E(x)), x)`,
/// pixel being the mean absolute ("l1") or squared ("l2") error in [-1, 1] units. It gives the
/// encoder and decoder a signal that does not depend on how far the discriminator has come
/// (docs/TRAINING.md, "Why the demo did not learn").
///
/// Parameters: `norm` l1 (default) or l2, `weight` 1, `features` 1.
public final class FeatureAndPixelLoss: ReconstructionLoss {
    public enum Norm: String, Codable, Sendable { case l1, l2 }
    public struct Parameters: StrategyParameters {
        public var norm: Norm = .l1
        public var weight: Double = 1
        public var features: Double = 1
        public init() {}
    }
    public static let name = "feature-matching+pixel"
    public static let documentation = "feature matching times 'features' plus 'weight' times the pixel l1 or l2 error"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func loss(featureMatching: Tensor, reconstruction: Tensor, images: Tensor) -> Tensor {
        let pixel = parameters.norm == .l1 ? l1Loss(reconstruction, images) : mseLoss(reconstruction, images)
        return featureMatching * Float(parameters.features) + pixel * Float(parameters.weight)
    }
}
