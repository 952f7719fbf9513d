import Foundation
import InkwellEngine
import InkwellNN

/// How a fresh run starts the model's linear paths (`linear_skip` and `linear_encoder`).
public enum LinearInit: String, Codable, CaseIterable, Sendable {
    /// At zero: the model starts as the seed's does.
    case zero
    /// At a PCA of the training frames (`VAEGAN.startLinearPaths(at:)`): the model starts as the
    /// best linear code of its latent's size, and training adds what the convolutions learn.
    case pca
}

extension VAEGAN {
    /// The linear paths' parameters (`vae.encoder.skip`, `vae.decoder.skip`; none in the seed's model).
    public var linearPathParameters: [Tensor] {
        [encoder.skip, decoder.skip].compactMap { $0 }.flatMap(\.parameters)
    }

    /// Mean-frame values are clamped to +-`saturation` before their atanh (the decoder's bias).
    static let saturation: Float = 0.995

    /// Starts the linear paths at `pca` (k components of frames with mean m, directions u_j,
    /// standard deviations s_j), so the model begins as a whitened PCA autoencoder:
    /// - encoder path: mu_j = u_j . (x - m) / s_j for j < min(k, D) (unit variance over the fitted
    ///   frames, as the KLD asks of the codes), 0 for the rest; the convolutions' share of mu
    ///   (the first D rows of `vae.encoder.map`) starts at zero;
    /// - decoder path: sum_j z_j s_j u_j, with bias atanh(m); the decoder's last convolution
    ///   starts at zero, so the first reconstruction of x is tanh(atanh(m) + its PCA deviation).
    ///
    /// Requires both paths (`linearSkip` and `linearEncoder`) and frames of the model's size.
    public func startLinearPaths(at pca: FramePCA) {
        guard let encoding = encoder.skip, let drawing = decoder.skip else {
            preconditionFailure("startLinearPaths: the model has no linear paths (linear_skip and linear_encoder)")
        }
        let (d, latent) = (pca.dimension, widths.latent)
        precondition(encoding.weight.shape == [latent, d],
                     "startLinearPaths: PCA of \(d) values a frame, encoder path \(Shape.describe(encoding.weight.shape))")
        let used = min(pca.count, latent)
        let deviations = pca.variances.prefix(used).map { Float(max($0, 1e-12).squareRoot()) }
        fill(encoding.weight) { w in
            for j in 0..<used {
                for i in 0..<d { w[j * d + i] = pca.components.pointer[j * d + i] / deviations[j] }
            }
        }
        fill(encoding.bias!) { b in
            for j in 0..<used {
                var dot: Float = 0
                for i in 0..<d { dot += pca.components.pointer[j * d + i] * pca.mean.pointer[i] }
                b[j] = -dot / deviations[j]
            }
        }
        fill(drawing.weight) { w in
            for i in 0..<d {
                for j in 0..<used { w[i * latent + j] = pca.components.pointer[j * d + i] * deviations[j] }
            }
        }
        fill(drawing.bias!) { b in
            for i in 0..<d { b[i] = atanh(min(max(pca.mean.pointer[i], -Self.saturation), Self.saturation)) }
        }
        let inputs = encoder.map.weight.shape[1]
        fill(encoder.map.weight) { $0.update(repeating: 0, count: latent * inputs) }
        if let bias = encoder.map.bias { fill(bias) { $0.update(repeating: 0, count: latent) } }
        if let last = decoder.convs.layers.last as? Conv2d {
            for tensor in [last.weight, last.bias].compactMap({ $0 }) { fill(tensor) { $0.update(repeating: 0, count: tensor.count) } }
        }
    }
}

/// Writes a tensor's values in place (`body` gets its storage) and marks it changed.
private func fill(_ tensor: Tensor, _ body: (UnsafeMutablePointer<Float>) -> Void) {
    body(tensor.pointer)
    tensor.storage.markMutated()
}
