import InkwellEngine

extension FramePCA {
    /// The most frames a fit holds in memory and solves exactly (through their Gram matrix).
    /// A split with more is fitted by subspace iteration, streamed over all of its frames.
    public static let exactFitLimit = 2048
    /// Frames a streamed fit (and the baselines' fingerprint) reads at a time.
    public static let fitChunk = 512

    /// Fits `k` components to every frame of `source`, in chunks of `chunk` frames (the position
    /// does not move). Up to `exactLimit` frames: exactly, through their Gram matrix. More:
    /// randomized subspace iteration (Halko, Martinsson and Tropp 2011, algorithm 4.4, with a
    /// Rayleigh-Ritz step; what scikit-learn's `PCA(svd_solver="randomized")` does), which reads
    /// the frames `iterations` + 2 times and never holds more than one chunk of them. From a
    /// fixed seed, so a fit is the same every time. nil when a frame holds a NaN or infinite
    /// value; throws when the split has fewer than 2 frames or cannot be read.
    public static func fit(_ source: FrameBatches, components k: Int, exactLimit: Int = exactFitLimit,
                           chunk: Int = fitChunk, iterations: Int = 3) throws -> FramePCA? {
        let n = source.frameCount
        guard n >= 2 else { throw TrainingError.data("the training split has \(n) frame(s); a PCA needs 2") }
        guard n > exactLimit else { return fit(try source.frames(Array(0..<n)), components: k) }
        let reader = ChunkReader(source: source, chunk: chunk)
        guard let mean = try reader.mean() else { return nil }
        let d = mean.count
        // Oversampling, as the randomized solvers do: the k-th direction comes out right only
        // when the subspace searched is wider than k.
        let width = min(k + max(k / 2, 16), n - 1, d)
        var generator = RandomGenerator(seed: 0x9CA5_7EA3)
        var basis = Tensor.randn([d, width], using: &generator)  // (D, l): columns span the search
        for _ in 0..<iterations {
            // Z = X^T X basis, X the centred frames, one chunk of rows at a time.
            let z = Tensor(zeros: [d, basis.shape[1]])
            try reader.forEachCentred(mean) { x, rows in
                let y = Self.times(x, rows: rows, basis)
                BLAS.gemm(transA: true, m: d, n: z.shape[1], k: rows, a: x, lda: d, b: y.pointer, ldb: z.shape[1],
                          beta: 1, c: z.pointer, ldc: z.shape[1])
            }
            guard let next = orthonormalColumns(z) else { return nil }
            basis = next
        }
        return try rayleighRitz(basis, reader: reader, mean: mean, components: k)
    }

    /// The best `k` directions within the span of `basis` (D, l): the eigenvectors of the frames'
    /// scatter projected onto it, (X basis)^T (X basis), mapped back to pixels.
    private static func rayleighRitz(_ basis: Tensor, reader: ChunkReader, mean: Tensor, components k: Int) throws -> FramePCA? {
        let (d, l, n) = (basis.shape[0], basis.shape[1], reader.source.frameCount)
        var scatter = [Double](repeating: 0, count: l * l)
        try reader.forEachCentred(mean) { x, rows in
            let y = Self.times(x, rows: rows, basis).values.map(Double.init)
            let part = LinearAlgebra.product(y, y, m: l, k: rows, n: l, transposeA: true)
            for i in scatter.indices { scatter[i] += part[i] }
        }
        guard let (values, vectors) = LinearAlgebra.symmetricEigen(scatter, n: l) else { return nil }
        let (kept, rotation) = leadingEigenvectors(values, vectors, count: k)
        let components = Tensor(zeros: [kept.count, d])
        BLAS.gemm(transB: true, m: kept.count, n: d, k: l, a: rotation.pointer, lda: l, b: basis.pointer, ldb: l,
                  c: components.pointer, ldc: d)
        return FramePCA(mean: mean, components: components, variances: kept.map { values[$0] / Double(n - 1) })
    }

    /// x (rows, D) times basis (D, l): (rows, l).
    private static func times(_ x: UnsafePointer<Float>, rows: Int, _ basis: Tensor) -> Tensor {
        let (d, l) = (basis.shape[0], basis.shape[1])
        let y = Tensor(zeros: [rows, l])
        BLAS.gemm(m: rows, n: l, k: d, a: x, lda: d, b: basis.pointer, ldb: l, c: y.pointer, ldc: l)
        return y
    }

    /// An orthonormal basis (D, r) of the columns of z (D, l), in double precision through the
    /// eigenvectors of z^T z: z V diag(1 / sqrt(values)). Directions whose share is below
    /// 1e-12 of the largest (beyond z's rank) are dropped. nil when z is not finite.
    static func orthonormalColumns(_ z: Tensor) -> Tensor? {
        let (d, l) = (z.shape[0], z.shape[1])
        let zd = z.values.map(Double.init)
        guard let (values, vectors) = LinearAlgebra.symmetricEigen(LinearAlgebra.product(zd, zd, m: l, k: d, n: l, transposeA: true), n: l) else {
            return nil
        }
        let top = values.last ?? 0
        let kept = (0..<l).reversed().filter { values[$0] > max(top, 1e-300) * 1e-12 }
        guard !kept.isEmpty else { return nil }
        var scale = [Double](repeating: 0, count: l * kept.count)
        for (column, i) in kept.enumerated() {
            let s = 1 / values[i].squareRoot()
            for j in 0..<l { scale[j * kept.count + column] = vectors[i * l + j] * s }
        }
        let q = LinearAlgebra.product(zd, scale, m: d, k: l, n: kept.count)
        return Tensor(shape: [d, kept.count], values: q.map { Float($0) })
    }
}

/// Reads a split's frames in chunks, in its own order (the position does not move).
struct ChunkReader {
    let source: FrameBatches
    let chunk: Int

    /// Calls `body` with each chunk of frames, flattened (rows, D), its row count and D.
    func forEach(_ body: (UnsafeMutablePointer<Float>, Int, Int) throws -> Void) throws {
        for start in stride(from: 0, to: source.frameCount, by: chunk) {
            let frames = try source.frames(Array(start..<min(start + chunk, source.frameCount)))
            try body(frames.pointer, frames.shape[0], frames.count / max(frames.shape[0], 1))
        }
    }

    /// The same, each frame with `mean` (D) taken away.
    func forEachCentred(_ mean: Tensor, _ body: (UnsafePointer<Float>, Int) throws -> Void) throws {
        try forEach { x, rows, d in
            precondition(d == mean.count, "ChunkReader: frames of \(d) values against a mean of \(mean.count)")
            for i in 0..<rows { for j in 0..<d { x[i * d + j] -= mean.pointer[j] } }
            try body(x, rows)
        }
    }

    /// The mean frame, flattened (D), summed in double precision; nil when a value is not finite.
    func mean() throws -> Tensor? {
        var sum: [Double] = []
        try forEach { x, rows, d in
            if sum.isEmpty { sum = [Double](repeating: 0, count: d) }
            for i in 0..<rows { for j in 0..<d { sum[j] += Double(x[i * d + j]) } }
        }
        guard sum.allSatisfy(\.isFinite) else { return nil }
        return Tensor(shape: [sum.count], values: sum.map { Float($0 / Double(source.frameCount)) })
    }
}
