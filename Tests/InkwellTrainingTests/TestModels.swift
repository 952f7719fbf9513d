import Foundation
import InkwellEngine
import InkwellTraining

/// Tiny widths for fast tests: depth 2, feature map 3 x 4, frames 9 x 13.
let tinyWidths = ModelWidths(latent: 4, encoder: [3, 4, 8], decoder: [8, 8, 4], discriminator: [3, 4, 8, 8],
                             discriminatorHidden: 8, featureMap: [3, 4])

/// Frames in [-1, 1] with some structure (gradients plus noise), (n, 3, h, w).
func syntheticFrames(_ n: Int, height: Int = 9, width: Int = 13, seed: UInt64 = 7) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let t = Tensor.uniform([n, 3, height, width], low: -0.3, high: 0.3, using: &generator)
    for i in 0..<n {
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    let index = ((i * 3 + c) * height + y) * width + x
                    t.pointer[index] += Float(x) / Float(width) - 0.5 + Float(c) * 0.1 - Float(i % 3) * 0.2
                }
            }
        }
    }
    return t
}

func tinyConfiguration(steps: Int = 6, evalEvery: Int = 3) -> TrainingConfiguration {
    var config = TrainingConfiguration()
    config.model = tinyWidths
    config.batch = 4
    config.steps = steps
    config.evalEvery = evalEvery
    config.evalFrames = 0
    config.fixedLatents = 6
    config.keepBest = 2
    return config
}

/// A run's metrics.csv without the time column (wall-clock), line by line.
func metricsWithoutTime(_ dir: URL) throws -> [String] {
    try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
        .split(separator: "\n").map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            fields.remove(at: 1)
            return fields.joined(separator: ",")
        }
}
