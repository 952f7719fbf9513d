import Foundation
import InkwellNN

/// Reading a model's widths from its weights, so a bare state dict loads without a state.json.
extension ModelWidths {
    /// The `__metadata__` key under which Inkwell's model.safetensors records its widths (the
    /// JSON of `ModelWidths`, as in state.json).
    public static let metadataKey = "inkwell.widths"

    /// The widths of the model whose state dict is `file` (reference PyTorch names):
    /// - encoder channels from `vae.encoder.convs.{i}.1.weight` ([out, in, 5, 5]);
    /// - decoder channels from `vae.decoder.convs.{i}.0.weight` ([in, out, 5, 5]);
    /// - discriminator channels from `discriminator.convs.{i}.1.weight` ([out, in, 5, 5]);
    /// - latent from `vae.decoder.map.weight` ([C x h x w, latent]), hidden from
    ///   `discriminator.fc.0.weight` ([hidden, ...]);
    /// - the feature map from the file's metadata when Inkwell wrote it, else from `frame`
    ///   ([height, width], e.g. a dataset's frames), else 9 x 16 when the decoder maps to
    ///   144 x C values; otherwise an error;
    /// - the linear skip when `vae.decoder.skip.weight` is there, the linear encoder path when
    ///   `vae.encoder.skip.weight` is.
    ///
    /// Throws one line naming the file and what could not be read. Shapes of the other tensors
    /// are checked when the state is loaded.
    public static func infer(from file: SafeTensorsFile, frame: [Int]? = nil) throws -> ModelWidths {
        let path = file.url.path
        let encoder = try channels(file, "vae.encoder.convs.", ".1.weight", inputFirst: false)
        let decoder = try channels(file, "vae.decoder.convs.", ".0.weight", inputFirst: true)
        let discriminator = try channels(file, "discriminator.convs.", ".1.weight", inputFirst: false)
        let decoderMap = try matrixShape(file, "vae.decoder.map.weight")
        let hidden = try matrixShape(file, "discriminator.fc.0.weight")[0]
        var widths = ModelWidths(latent: decoderMap[1], encoder: encoder, decoder: decoder, discriminator: discriminator,
                                 discriminatorHidden: hidden, featureMap: [])
        widths.featureMap = try featureMap(file, widths: widths, mapped: decoderMap[0], frame: frame)
        widths.linearSkip = (try? file.entry("vae.decoder.skip.weight")) != nil
        widths.linearEncoder = (try? file.entry("vae.encoder.skip.weight")) != nil
        do { try widths.validate() } catch TrainingError.configuration(let reason) {
            throw TrainingError.checkpoint("\(path): the weights give no buildable model: \(reason)")
        }
        return widths
    }

    /// Channel lists from consecutive conv weights `<prefix><i><suffix>` (i = 0, 1, ...): the
    /// first's input channels, then each one's output channels.
    private static func channels(_ file: SafeTensorsFile, _ prefix: String, _ suffix: String, inputFirst: Bool) throws -> [Int] {
        var result: [Int] = []
        var i = 0
        while let entry = try? file.entry("\(prefix)\(i)\(suffix)"), entry.shape.count == 4 {
            let (input, output) = inputFirst ? (entry.shape[0], entry.shape[1]) : (entry.shape[1], entry.shape[0])
            if result.isEmpty { result.append(input) }
            result.append(output)
            i += 1
        }
        guard !result.isEmpty else {
            throw TrainingError.checkpoint("\(file.url.path): no '\(prefix)0\(suffix)' (a 4-d conv weight): not an Inkwell or reference VAE-GAN state dict")
        }
        return result
    }

    /// The shape of the 2-d tensor `name`, or an error naming it.
    private static func matrixShape(_ file: SafeTensorsFile, _ name: String) throws -> [Int] {
        guard let entry = try? file.entry(name), entry.shape.count == 2 else {
            throw TrainingError.checkpoint("\(file.url.path): no '\(name)' (a 2-d linear weight): not an Inkwell or reference VAE-GAN state dict")
        }
        return entry.shape
    }

    /// The feature map: recorded widths, the caller's frame, or 9 x 16 when `mapped` is 144 x C.
    private static func featureMap(_ file: SafeTensorsFile, widths: ModelWidths, mapped: Int, frame: [Int]?) throws -> [Int] {
        if let json = file.metadata[metadataKey] {
            guard let recorded = try? JSONDecoder().decode(ModelWidths.self, from: Data(json.utf8)) else {
                throw TrainingError.checkpoint("\(file.url.path): __metadata__ '\(metadataKey)' is not a widths object")
            }
            return recorded.featureMap
        }
        let channels = widths.decoder[0]
        if let frame, frame.count == 2, let h = shrink(frame[0], times: widths.depth), let w = shrink(frame[1], times: widths.depth),
           h * w * channels == mapped {
            return [h, w]
        }
        if mapped == 144 * channels { return [9, 16] }
        let hint = frame.map { " or the frames (\($0[1]) x \($0[0]))" } ?? ""
        throw TrainingError.checkpoint("\(file.url.path): cannot tell the feature map: the decoder maps to \(mapped) values (\(channels) channels), which fits neither 9 x 16\(hint); the file has no '\(metadataKey)' metadata")
    }

    /// The side x with (x grown `times` times) == s, if there is one.
    static func shrink(_ s: Int, times: Int) -> Int? {
        var v = s
        for _ in 0..<times {
            guard v % 2 == 1 else { return nil }
            v = (v + 1) / 2
        }
        return v
    }

    /// This model's widths as the metadata Inkwell writes into model.safetensors.
    public var metadata: [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [Self.metadataKey: String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)]
    }
}
