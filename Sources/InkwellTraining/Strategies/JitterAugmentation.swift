import InkwellEngine

/// Random shifts and colour-channel permutations of each training frame (docs/TRAINING.md,
/// "Augmenting the training frames").
///
/// - A shift moves the frame by (dx, dy), each uniform in [-shift_x, shift_x] and
///   [-shift_y, shift_y] pixels; the pixels it uncovers repeat the nearest edge pixel (PyTorch's
///   `pad(mode="replicate")` then a crop). The camera of the held-out footage does not stand where
///   the training footage's stood.
/// - With probability `channels`, the colour channels are permuted (one of the non-identity
///   orders, uniformly). Greys stay grey while ink changes colour: the teams of the held-out
///   matches need not wear the training matches' colours.
///
/// Parameters: `shift_x` 0, `shift_y` 0 (pixels), `channels` 0 (a probability).
public final class JitterAugmentation: Augmentation {
    public struct Parameters: StrategyParameters {
        public var shiftX = 0
        public var shiftY = 0
        public var channels = 0.0
        public init() {}
        enum CodingKeys: String, CodingKey { case shiftX = "shift_x", shiftY = "shift_y", channels }

        public var problem: String? {
            if shiftX < 0 || shiftY < 0 { return "shift_x and shift_y must not be negative, got \(shiftX) and \(shiftY)" }
            if !(0...1).contains(channels) { return "channels must be a probability in [0, 1], got \(channels)" }
            return nil
        }
    }
    public static let name = "jitter"
    public static let documentation = "shifts each training frame by up to shift_x, shift_y pixels (edges repeated) and permutes its colour channels with probability 'channels'"
    public let parameters: Parameters
    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    public func apply(to images: Tensor, draws: [AugmentationDraw]) {
        precondition(images.rank == 4 && images.shape[0] == draws.count,
                     "jitter: images \(Shape.describe(images.shape)) need one draw per row, got \(draws.count)")
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        var frame = [Float](repeating: 0, count: c * h * w)
        for (row, draw) in draws.enumerated() {
            var rng = draw.generator
            let dx = Self.uniform(in: -parameters.shiftX...parameters.shiftX, &rng)
            let dy = Self.uniform(in: -parameters.shiftY...parameters.shiftY, &rng)
            let order = rng.nextUniform() < parameters.channels ? Self.permutation(of: c, &rng) : Array(0..<c)
            guard dx != 0 || dy != 0 || order != Array(0..<c) else { continue }
            let base = images.pointer + row * c * h * w
            frame.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base, count: c * h * w) }
            frame.withUnsafeBufferPointer { source in
                for channel in 0..<c {
                    Self.shift(source.baseAddress! + order[channel] * h * w, into: base + channel * h * w, h: h, w: w, dx: dx, dy: dy)
                }
            }
        }
    }

    /// `out[y][x] = source[clamp(y - dy)][clamp(x - dx)]` over an h x w plane.
    static func shift(_ source: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, h: Int, w: Int, dx: Int, dy: Int) {
        for y in 0..<h {
            let sy = min(max(y - dy, 0), h - 1)
            for x in 0..<w { out[y * w + x] = source[sy * w + min(max(x - dx, 0), w - 1)] }
        }
    }

    static func uniform(in range: ClosedRange<Int>, _ rng: inout RandomGenerator) -> Int {
        range.lowerBound + Int(rng.next() % UInt64(range.count))
    }

    /// A uniformly drawn order of `n` channels other than the identity (the identity when n < 2).
    static func permutation(of n: Int, _ rng: inout RandomGenerator) -> [Int] {
        guard n > 1 else { return Array(0..<n) }
        while true {
            var order = Array(0..<n)
            rng.shuffle(&order)
            if order != Array(0..<n) { return order }
        }
    }
}
