import CInkwellKernels
import Synchronization

// Convolution primitives: conv2d and conv_transpose2d (NCHW, square stride and padding, zero
// padding), lowered to sgemm through im2col / col2im. Several images share one product: their
// column matrices sit side by side (K x G*P), so the gemm is wide even where one image's map is
// small (9 x 16), and the lowering of the images runs in parallel.
//
// A transposed convolution is the gradient of a convolution with respect to its input: its
// forward is the convolution's input-gradient (gemm then col2im) and its backward reuses the
// convolution's forward lowering (im2col then gemm). Stride-2, 5 x 5 shapes (all the model's
// convolutions but its first and last) run with Winograd's algorithm instead: the forward of a
// convolution, and the input gradient of a transposed convolution, on the phase form
// (WinogradStridedConvolution.swift); the forward of a transposed convolution on the sub-pixel
// form (WinogradTransposedConvolution.swift). Inside a training step
// (`ConvolutionLowering.withReferenceRounding`) every shape lowers to sgemm, as PyTorch's do.

/// The lowering of one image: a (C, H, W) input seen through (kh, kw) windows at `stride`, with
/// `padding` zeros around it, giving an (outHeight, outWidth) map.
public struct ConvGeometry: Sendable {
    public let channels, height, width, kernelHeight, kernelWidth, stride, padding: Int
    public let outHeight, outWidth: Int

    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.padding = padding
        outHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outWidth = (width + 2 * padding - kernelWidth) / stride + 1
    }

    /// Rows of the column matrix: C * kh * kw.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: outHeight * outWidth.
    public var positions: Int { outHeight * outWidth }

    /// The output columns x whose input column x * stride + kj - padding lies inside the image.
    @inline(__always) func validColumns(_ kj: Int) -> (Int, Int) {
        // x >= (padding - kj) / stride, rounded up; x <= (width - 1 + padding - kj) / stride, rounded down.
        let low = padding - kj, high = width - 1 + padding - kj
        let x0 = low <= 0 ? 0 : (low + stride - 1) / stride
        let x1 = high < 0 ? 0 : high / stride + 1
        return (min(x0, outWidth), max(min(x1, outWidth), min(x0, outWidth)))
    }

    /// Writes the (C*kh*kw, OH*OW) column matrix of `image`; row r starts at
    /// `columns + r * rowStride` (default: OH*OW, a dense matrix).
    public func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let (oh, ow, s, p) = (outHeight, outWidth, stride, padding)
        let ld = rowStride ?? oh * ow
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<kernelHeight {
                for kj in 0..<kernelWidth {
                    let row = columns + ((c * kernelHeight + ki) * kernelWidth + kj) * ld
                    for y in 0..<oh {
                        let iy = y * s + ki - p
                        let dst = row + y * ow
                        if iy < 0 || iy >= height {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * width + kj - p
                        let (x0, x1) = validColumns(kj)
                        if x0 > 0 { dst.update(repeating: 0, count: x0) }
                        if s == 1 {
                            (dst + x0).update(from: src + x0, count: x1 - x0)
                        } else if s == 2 {
                            inkwell_gather_stride2(src + 2 * x0, dst + x0, x1 - x0)
                        } else {
                            for x in x0..<x1 { dst[x] = src[x * s] }
                        }
                        if x1 < ow { (dst + x1).update(repeating: 0, count: ow - x1) }
                    }
                }
            }
        }
    }

    /// Adds the (C*kh*kw, OH*OW) column matrix back into `image` (which the caller zeroes); row
    /// r starts at `columns + r * rowStride` (default: OH*OW).
    public func col2im(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let (oh, ow, s, p) = (outHeight, outWidth, stride, padding)
        let ld = rowStride ?? oh * ow
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<kernelHeight {
                for kj in 0..<kernelWidth {
                    let row = columns + ((c * kernelHeight + ki) * kernelWidth + kj) * ld
                    for y in 0..<oh {
                        let iy = y * s + ki - p
                        if iy < 0 || iy >= height { continue }
                        let src = row + y * ow
                        let dst = plane + iy * width + kj - p
                        let (x0, x1) = validColumns(kj)
                        if s == 1 {
                            for x in x0..<x1 { dst[x] += src[x] }
                        } else if s == 2 {
                            inkwell_scatter_add_stride2(src + x0, dst + 2 * x0, x1 - x0)
                        } else {
                            for x in x0..<x1 { dst[x * s] += src[x] }
                        }
                    }
                }
            }
        }
    }
}

/// Settings of the convolution lowering.
public enum ConvolutionLowering {
    /// The most floats a column buffer (patch rows x images x positions) may hold; images are
    /// grouped into one product up to this size (at least one image per group). 16 Mi floats
    /// (64 MiB) by default.
    public static var columnBudget: Int {
        get { settings.withLock { $0.columnBudget } }
        set { settings.withLock { $0.columnBudget = newValue } }
    }

    /// The process-wide switches below, under one lock.
    static let settings = Mutex(Switches())

    struct Switches {
        var columnBudget = 1 << 24
        var directSmallChannelConvolutions = inkwell_kernels_cpu_level() != INKWELL_KERNELS_PORTABLE
        var winogradStridedConvolutions = true
        var winogradTransposedConvolutions = true
    }

    /// Whether the calling task (or thread, outside tasks) runs inside `withReferenceRounding`.
    @TaskLocal public static var referenceRounding = false

    /// Runs `body` with every convolution and transposed convolution lowered as PyTorch lowers
    /// them on a CPU: im2col / col2im + sgemm, never Winograd, whether autograd records or not.
    ///
    /// Training steps run this way (`TrainingSchedule.run`). Winograd's transforms round
    /// differently (F(4x4, 3x3): relative L2 1.4e-6 against 2e-7 for the gemm), and a training
    /// step amplifies rounding: Adam's first update moves each weight by about lr * sign(g), so
    /// near-zero gradients whose sign flips move by 2 lr, and a ReLU or leaky ReLU input near zero
    /// that changes sign changes its gradient by 99-100%. Outside this scope (evaluation,
    /// reconstruction, sampling, benchmarks of inference) the faster Winograd paths run.
    ///
    /// `withReferenceRounding(false) { ... }` lifts it for a part of a step that no parameter
    /// depends on (the logged pixel error).
    public static func withReferenceRounding<T>(_ enabled: Bool = true, _ body: () throws -> T) rethrows -> T {
        try $referenceRounding.withValue(enabled) { try body() }
    }
}

extension ConvolutionLowering {
    /// Whether stride-1, unpadded convolutions with at most 4 channels on one side (the first
    /// and last convs of the model) run as direct convolutions (`CInkwellKernels`) instead of
    /// im2col + gemm, whose column matrix is 25x the input for 3 channels. On by default where
    /// the AVX-512 or AVX2 kernel runs; settable (tests compare both paths).
    public static var directSmallChannelConvolutions: Bool {
        get { settings.withLock { $0.directSmallChannelConvolutions } }
        set { settings.withLock { $0.directSmallChannelConvolutions = newValue } }
    }

    /// The instruction set of the engine's own kernels (`CInkwellKernels`).
    public enum KernelLevel: Int32, CaseIterable, Comparable, Sendable {
        case portable = 0, avx2 = 1, avx512 = 2
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
        /// The best this CPU runs (AVX-512F; else AVX2 with FMA; else portable C).
        public static var cpu: KernelLevel { KernelLevel(rawValue: inkwell_kernels_cpu_level()) ?? .portable }
    }

    /// The level the kernels run at: the CPU's best unless set lower (tests run every version the
    /// CPU has); setting it higher than `KernelLevel.cpu` runs `cpu`.
    public static var kernelLevel: KernelLevel {
        get { KernelLevel(rawValue: inkwell_kernels_level()) ?? .portable }
        set { inkwell_kernels_set_max_level(newValue.rawValue) }
    }

    static func usesDirect(channels: Int, outChannels: Int, stride: Int, padding: Int) -> Bool {
        directSmallChannelConvolutions && stride == 1 && padding == 0 && (channels <= 4 || outChannels <= 4)
    }
}

/// out (N, O, H-kh+1, W-kw+1) = valid stride-1 convolution of x (N, C, H, W) with `packed`
/// weights, image by image in parallel.
private func directConvolution(_ x: UnsafePointer<Float>, n: Int, channels: Int, height: Int, width: Int,
                               packed: UnsafePointer<Float>, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
                               _ out: UnsafeMutablePointer<Float>) {
    let imageSize = channels * height * width
    let outSize = outChannels * (height - kernelHeight + 1) * (width - kernelWidth + 1)
    Parallel.forEach(n) { i in
        inkwell_direct_conv_s1(x + i * imageSize, Int32(channels), Int32(height), Int32(width), packed,
                               Int32(outChannels), Int32(kernelHeight), Int32(kernelWidth), out + i * outSize, 0)
    }
}

/// Weights repacked for the direct kernel; `flip` gives those of the input gradient.
private func packedWeights(_ weight: UnsafePointer<Float>, channels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
                           flip: Bool) -> TensorStorage {
    let count = inkwell_direct_conv_packed_size(Int32(channels), Int32(outChannels), Int32(kernelHeight), Int32(kernelWidth))
    let packed = TensorStorage(count: Int(count), zeroed: false)
    inkwell_direct_conv_pack(weight, Int32(channels), Int32(outChannels), Int32(kernelHeight), Int32(kernelWidth), flip ? 1 : 0, packed.pointer)
    return packed
}

/// Images per product: as many as keep a (rows x G*positions) buffer within the budget.
@inline(__always) func imagesPerGroup(_ n: Int, rows: Int, positions: Int) -> Int {
    max(1, min(n, ConvolutionLowering.columnBudget / max(rows * positions, 1)))
}

/// dst[c, j*P + p] = src[first + j, c, p] for j < count: images side by side, channel-major.
private func gatherImages(_ src: UnsafePointer<Float>, first: Int, count: Int, channels: Int, positions: Int,
                          _ dst: UnsafeMutablePointer<Float>) {
    let ld = count * positions
    Parallel.forEach(count) { j in
        let image = src + (first + j) * channels * positions
        for c in 0..<channels { (dst + c * ld + j * positions).update(from: image + c * positions, count: positions) }
    }
}

/// dst[first + j, c, p] = src[c, j*P + p] (+ bias[c]): the inverse of `gatherImages`.
private func scatterImages(_ src: UnsafePointer<Float>, first: Int, count: Int, channels: Int, positions: Int,
                           bias: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<Float>) {
    let ld = count * positions
    Parallel.forEach(count) { j in
        let image = dst + (first + j) * channels * positions
        for c in 0..<channels {
            let from = src + c * ld + j * positions, to = image + c * positions
            if let bias {
                let b = bias[c]
                for i in 0..<positions { to[i] = from[i] + b }
            } else {
                to.update(from: from, count: positions)
            }
        }
    }
}

/// Per-channel sums of an (N, C, P) gradient, added into `out` (C).
private func addChannelSums(_ g: UnsafePointer<Float>, n: Int, channels: Int, positions: Int, _ out: UnsafeMutablePointer<Float>) {
    var sums = [Double](repeating: 0, count: channels)
    for i in 0..<n {
        for c in 0..<channels { sums[c] += Kernels.sum(g + (i * channels + c) * positions, positions) }
    }
    for c in 0..<channels { out[c] += Float(sums[c]) }
}

/// 2-D convolution (cross-correlation, as PyTorch).
/// - x: (N, C, H, W); weight: (O, C, kh, kw); bias: (O) or nil.
/// - Returns (N, O, (H + 2p - kh) / stride + 1, (W + 2p - kw) / stride + 1).
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
    guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[1] else {
        shapeMismatch("conv2d", x.shape, weight.shape, "input (N, C, H, W) vs weight (O, C, kh, kw)")
    }
    // A stride-2 conv of a few channels is a stride-1 conv of the image's four 2x2 phases
    // (space to depth) with the kernel split likewise, which the direct kernel runs well.
    if ConvolutionLowering.directSmallChannelConvolutions, stride == 2, padding == 0, x.shape[1] <= 4 {
        let (h, w, kh, kw) = (x.shape[2], x.shape[3], weight.shape[2], weight.shape[3])
        let sameSize = (h + 1) / 2 - (kh + 1) / 2 + 1 == (h - kh) / 2 + 1 && (w + 1) / 2 - (kw + 1) / 2 + 1 == (w - kw) / 2 + 1
        if h >= kh, w >= kw, sameSize {
            return convolution(spaceToDepth2(x), weight: spaceToDepth2(weight), bias: bias, stride: 1, padding: 0, direct: true)
        }
    }
    return convolution(x, weight: weight, bias: bias, stride: stride, padding: padding,
                       direct: ConvolutionLowering.usesDirect(channels: x.shape[1], outChannels: weight.shape[0], stride: stride, padding: padding))
}

/// (N, C, H, W) -> (N, 4C, ceil(H/2), ceil(W/2)): channel (2a + b) * C + c holds the phase
/// [c, 2y + a, 2x + b] (zero past the edge). Backward: the inverse gather.
func spaceToDepth2(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (hh, wh) = ((h + 1) / 2, (w + 1) / 2)
    let out = Tensor(zeros: [n, 4 * c, hh, wh])
    let (xp, yp) = (x.pointer, out.pointer)
    func each(_ body: @escaping (_ src: Int, _ dst: Int) -> Void) {
        Parallel.forEach(n) { i in
            for a in 0..<2 { for b in 0..<2 { for ch in 0..<c {
                let plane = ((i * 4 + 2 * a + b) * c + ch) * hh * wh
                for y in 0..<hh where 2 * y + a < h {
                    for xx in 0..<wh where 2 * xx + b < w {
                        body(((i * c + ch) * h + 2 * y + a) * w + 2 * xx + b, plane + y * wh + xx)
                    }
                }
            } } }
        }
    }
    each { src, dst in yp[dst] = xp[src] }
    let inputShape = x.shape
    return out.recorded("space_to_depth2", [x], saving: []) { g, _ in
        let gx = Tensor.empty(inputShape)
        let (gp, op) = (g.pointer, gx.pointer)
        each { src, dst in op[src] = gp[dst] }
        return [gx]
    }
}

/// The convolution proper: `direct` runs it with the direct kernels (stride 1, no padding).
private func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int, direct: Bool) -> Tensor {
    let (n, o) = (x.shape[0], weight.shape[0])
    if let bias, bias.shape != [o] { shapeMismatch("conv2d", weight.shape, bias.shape, "weight (O, C, kh, kw) vs bias (O)") }
    let geo = ConvGeometry(channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                           kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], stride: stride, padding: padding)
    guard geo.outHeight > 0, geo.outWidth > 0, stride > 0, padding >= 0 else {
        shapeMismatch("conv2d", x.shape, weight.shape, "kernel larger than the padded input, or a bad stride/padding")
    }
    let out = Tensor.empty([n, o, geo.outHeight, geo.outWidth])
    let group = imagesPerGroup(n, rows: geo.patchSize, positions: geo.positions)
    if direct {
        directConvolutionForward(x, weight: weight, bias: bias, geo, out)
    } else if !ConvolutionLowering.referenceRounding,
              ConvolutionLowering.usesWinogradStrided(channels: geo.channels, kernelHeight: geo.kernelHeight,
                                                      kernelWidth: geo.kernelWidth, stride: stride, padding: padding) {
        winogradStridedConvolution(x.pointer, n: n, inChannels: geo.channels, height: geo.height, width: geo.width,
                                   weight: weight.pointer, outChannels: o, padding: padding, bias: bias?.pointer, out.pointer)
    } else {
        loweredConvolutionForward(x, weight: weight, bias: bias, geo, group: group, out)
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    // Only the weight gradient reads the input, image by image: a padded input is kept as its
    // recipe and each image padded again when it is read.
    let savedX = SavedTensor(x), inputShape = x.shape
    return out.recorded("conv2d", inputs, savingStorages: [savedX.storage, weight.storage]) { g, needs in
        let needX = needs[0], needW = needs[1], needB = needs.count > 2 && needs[2]
        let gx = needX ? Tensor(zeros: inputShape) : nil
        let gw = needW ? Tensor(zeros: weight.shape) : nil
        let gb = needB ? Tensor(zeros: [o]) : nil
        if direct {
            if let gx { directConvolutionInputGradient(g, weight: weight, geo, n: n, into: gx) }
            if let gw { directConvolutionWeightGradient(g, input: savedX, geo, n: n, into: gw) }
        } else if gx != nil || gw != nil {
            loweredConvolutionGradients(g, weight: weight, input: savedX, geo, n: n, group: group, gx: gx, gw: gw)
        }
        if let gb { addChannelSums(g.pointer, n: n, channels: o, positions: geo.positions, gb.pointer) }
        return [gx, gw, gb].prefix(needs.count).map { $0 }
    }
}

/// The direct path's forward (`CInkwellKernels`): packed kernels, then the bias per plane.
private func directConvolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, _ out: Tensor) {
    let (n, o, positions) = (x.shape[0], weight.shape[0], geo.positions)
    let packed = packedWeights(weight.pointer, channels: geo.channels, outChannels: o, kernelHeight: geo.kernelHeight,
                               kernelWidth: geo.kernelWidth, flip: false)
    directConvolution(x.pointer, n: n, channels: geo.channels, height: geo.height, width: geo.width, packed: packed.pointer,
                      outChannels: o, kernelHeight: geo.kernelHeight, kernelWidth: geo.kernelWidth, out.pointer)
    if let bias {
        let (yp, bp) = (out.pointer, bias.pointer)
        Parallel.forEach(n) { i in
            for oc in 0..<o { let plane = yp + (i * o + oc) * positions, b = bp[oc]; for j in 0..<positions { plane[j] += b } }
        }
    }
}

/// PyTorch's lowering: `group` images at a time, im2col into one column matrix, one sgemm, then
/// the products scattered to the output planes (with the bias).
private func loweredConvolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, group: Int, _ out: Tensor) {
    let (n, o, k, positions) = (x.shape[0], weight.shape[0], geo.patchSize, geo.positions)
    let imageSize = geo.channels * geo.height * geo.width
    let columns = TensorStorage(count: k * group * positions, zeroed: false)
    let products = TensorStorage(count: o * group * positions, zeroed: false)
    for first in Swift.stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), ld = count * positions
        Parallel.forEach(count) { j in
            geo.im2col(x.pointer + (first + j) * imageSize, columns.pointer + j * positions, rowStride: ld)
        }
        BLAS.gemm(m: o, n: ld, k: k, a: weight.pointer, lda: k, b: columns.pointer, ldb: ld, c: products.pointer, ldc: ld)
        scatterImages(products.pointer, first: first, count: count, channels: o, positions: positions,
                      bias: bias?.pointer, out.pointer)
    }
}

/// The direct path's input gradient: the valid convolution of the zero-padded output gradient
/// with the rotated kernels.
private func directConvolutionInputGradient(_ g: Tensor, weight: Tensor, _ geo: ConvGeometry, n: Int, into gx: Tensor) {
    let o = weight.shape[0]
    let (kh, kw) = (geo.kernelHeight, geo.kernelWidth)
    let (ph, pw) = (geo.outHeight + 2 * (kh - 1), geo.outWidth + 2 * (kw - 1))
    let padded = TensorStorage(count: n * o * ph * pw)
    let (gp, pp, ow) = (g.pointer, padded.pointer, geo.outWidth)
    Parallel.forEach(n) { i in
        for oc in 0..<o {
            for y in 0..<geo.outHeight {
                (pp + ((i * o + oc) * ph + y + kh - 1) * pw + kw - 1).update(from: gp + ((i * o + oc) * geo.outHeight + y) * ow, count: ow)
            }
        }
    }
    let packed = packedWeights(weight.pointer, channels: o, outChannels: geo.channels, kernelHeight: kh, kernelWidth: kw, flip: true)
    directConvolution(pp, n: n, channels: o, height: ph, width: pw, packed: packed.pointer,
                      outChannels: geo.channels, kernelHeight: kh, kernelWidth: kw, gx.pointer)
}

/// The direct path's weight gradient: per-worker partial sums over the images, then added.
private func directConvolutionWeightGradient(_ g: Tensor, input savedX: SavedTensor, _ geo: ConvGeometry, n: Int, into gw: Tensor) {
    let (o, positions) = (gw.shape[0], geo.positions)
    let imageSize = geo.channels * geo.height * geo.width
    let chunks = min(n, Parallel.workers)
    let partials = TensorStorage(count: chunks * gw.count)
    let (gp, pp, size) = (g.pointer, partials.pointer, gw.count)
    Parallel.forEach(chunks) { chunk in
        for i in Swift.stride(from: chunk, to: n, by: chunks) {
            savedX.withImage(i, size: imageSize) { xi in
                inkwell_direct_conv_weight_grad(xi, Int32(geo.channels), Int32(geo.height), Int32(geo.width),
                                                gp + i * o * positions, Int32(o), Int32(geo.kernelHeight), Int32(geo.kernelWidth),
                                                pp + chunk * size)
            }
        }
    }
    for chunk in 0..<chunks { Kernels.add(gw.pointer, pp + chunk * size, gw.pointer, size) }
}

/// The lowered path's input and weight gradients, `group` images at a time: the output gradient
/// gathered into one matrix; the weight gradient accumulates gy x columnsᵀ, the input gradient
/// is weightᵀ x gy scattered back by col2im.
private func loweredConvolutionGradients(_ g: Tensor, weight: Tensor, input savedX: SavedTensor, _ geo: ConvGeometry,
                                         n: Int, group: Int, gx: Tensor?, gw: Tensor?) {
    let (o, k, positions) = (weight.shape[0], geo.patchSize, geo.positions)
    let imageSize = geo.channels * geo.height * geo.width
    let columns = TensorStorage(count: k * group * positions, zeroed: false)
    let gy = TensorStorage(count: o * group * positions, zeroed: false)
    for first in Swift.stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), ld = count * positions
        gatherImages(g.pointer, first: first, count: count, channels: o, positions: positions, gy.pointer)
        if let gw {
            Parallel.forEach(count) { j in
                savedX.withImage(first + j, size: imageSize) { geo.im2col($0, columns.pointer + j * positions, rowStride: ld) }
            }
            BLAS.gemm(transB: true, m: o, n: k, k: ld, a: gy.pointer, lda: ld, b: columns.pointer, ldb: ld,
                      beta: 1, c: gw.pointer, ldc: k)
        }
        if let gx {
            BLAS.gemm(transA: true, m: k, n: ld, k: o, a: weight.pointer, lda: k, b: gy.pointer, ldb: ld,
                      c: columns.pointer, ldc: ld)
            Parallel.forEach(count) { j in
                geo.col2im(columns.pointer + j * positions, gx.pointer + (first + j) * imageSize, rowStride: ld)
            }
        }
    }
}

/// 2-D transposed convolution (PyTorch's `conv_transpose2d`, no output padding).
/// - x: (N, Cin, H, W); weight: (Cin, Cout, kh, kw); bias: (Cout) or nil.
/// - Returns (N, Cout, (H - 1) * stride - 2p + kh, (W - 1) * stride - 2p + kw).
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
    guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[0] else {
        shapeMismatch("conv_transpose2d", x.shape, weight.shape, "input (N, Cin, H, W) vs weight (Cin, Cout, kh, kw)")
    }
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
    if let bias, bias.shape != [cout] { shapeMismatch("conv_transpose2d", weight.shape, bias.shape, "weight (Cin, Cout, kh, kw) vs bias (Cout)") }
    let oh = (h - 1) * stride - 2 * padding + kh
    let ow = (w - 1) * stride - 2 * padding + kw
    guard oh > 0, ow > 0, stride > 0, padding >= 0 else {
        shapeMismatch("conv_transpose2d", x.shape, weight.shape, "padding leaves no output, or a bad stride/padding")
    }
    // The convolution whose input-gradient this is: an (Cout, oh, ow) map lowered to (h, w).
    let geo = ConvGeometry(channels: cout, height: oh, width: ow, kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding)
    precondition(geo.outHeight == h && geo.outWidth == w, "conv_transpose2d: geometry does not invert")
    let (k, positions) = (geo.patchSize, h * w)
    let group = imagesPerGroup(n, rows: k, positions: positions)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let out: Tensor
    // Read once: the backward lowers the input gradient as the forward was lowered.
    let reference = ConvolutionLowering.referenceRounding
    if !reference, ConvolutionLowering.usesWinograd(kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding) {
        out = Tensor.empty([n, cout, oh, ow])
        // F(4x4, 3x3) where no gradient will flow back through this forward (see
        // WinogradTransposedConvolution.swift).
        winogradTransposedConvolution(x.pointer, n: n, inChannels: cin, height: h, width: w, weight: weight.pointer,
                                      outChannels: cout, bias: bias?.pointer,
                                      tile: GradMode.records(inputs) ? .f2x3 : .f4x3, out.pointer)
    } else {
        out = Tensor(zeros: [n, cout, oh, ow])
        loweredTransposedConvolutionForward(x, weight: weight, bias: bias, geo, group: group, out)
    }
    return out.recorded("conv_transpose2d", inputs, saving: [x, weight]) { g, needs in
        let needB = needs.count > 2 && needs[2]
        let gx = needs[0] ? Tensor.empty(x.shape) : nil
        let gw = needs[1] ? Tensor(zeros: weight.shape) : nil
        let gb = needB ? Tensor(zeros: [cout]) : nil
        // The input gradient is the convolution of g with the weight, at this stride and padding.
        let winogradX = !reference && ConvolutionLowering.usesWinogradStrided(channels: cout, kernelHeight: kh, kernelWidth: kw,
                                                                                stride: stride, padding: padding)
        if winogradX, let gx {
            winogradStridedConvolution(g.pointer, n: n, inChannels: cout, height: oh, width: ow, weight: weight.pointer,
                                       outChannels: cin, padding: padding, bias: nil, gx.pointer)
        }
        let loweredX = winogradX ? nil : gx
        if loweredX != nil || gw != nil {
            loweredTransposedConvolutionGradients(g, input: x, weight: weight, geo, group: group, gx: loweredX, gw: gw)
        }
        if let gb { addChannelSums(g.pointer, n: n, channels: cout, positions: oh * ow, gb.pointer) }
        return [gx, gw, gb].prefix(needs.count).map { $0 }
    }
}

/// The transposed convolution's lowered forward, `group` images at a time: weightᵀ x input into
/// one column matrix, scattered onto the (zeroed) output by col2im, plus the bias.
private func loweredTransposedConvolutionForward(_ x: Tensor, weight: Tensor, bias: Tensor?, _ geo: ConvGeometry,
                                                 group: Int, _ out: Tensor) {
    let (n, cin, cout) = (x.shape[0], x.shape[1], weight.shape[1])
    let (k, positions, planeSize) = (geo.patchSize, x.shape[2] * x.shape[3], geo.height * geo.width)
    let columns = TensorStorage(count: k * group * positions, zeroed: false)
    let xs = TensorStorage(count: cin * group * positions, zeroed: false)
    for first in Swift.stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), ld = count * positions
        gatherImages(x.pointer, first: first, count: count, channels: cin, positions: positions, xs.pointer)
        BLAS.gemm(transA: true, m: k, n: ld, k: cin, a: weight.pointer, lda: k, b: xs.pointer, ldb: ld,
                  c: columns.pointer, ldc: ld)
        Parallel.forEach(count) { j in
            let y = out.pointer + (first + j) * cout * planeSize
            geo.col2im(columns.pointer + j * positions, y, rowStride: ld)
            if let bias {
                for c in 0..<cout { let b = bias.pointer[c], plane = y + c * planeSize; for i in 0..<planeSize { plane[i] += b } }
            }
        }
    }
}

/// The transposed convolution's lowered gradients, `group` images at a time: the output gradient
/// im2col'd once; the weight gradient accumulates input x columnsᵀ, the input gradient is
/// weight x columns.
private func loweredTransposedConvolutionGradients(_ g: Tensor, input x: Tensor, weight: Tensor, _ geo: ConvGeometry,
                                                   group: Int, gx: Tensor?, gw: Tensor?) {
    let (n, cin, cout) = (x.shape[0], x.shape[1], weight.shape[1])
    let (k, positions, outSize) = (geo.patchSize, x.shape[2] * x.shape[3], cout * geo.height * geo.width)
    let columns = TensorStorage(count: k * group * positions, zeroed: false)
    let small = TensorStorage(count: cin * group * positions, zeroed: false)
    for first in Swift.stride(from: 0, to: n, by: group) {
        let count = min(group, n - first), ld = count * positions
        Parallel.forEach(count) { j in
            geo.im2col(g.pointer + (first + j) * outSize, columns.pointer + j * positions, rowStride: ld)
        }
        if let gw {
            gatherImages(x.pointer, first: first, count: count, channels: cin, positions: positions, small.pointer)
            BLAS.gemm(transB: true, m: cin, n: k, k: ld, a: small.pointer, lda: ld, b: columns.pointer, ldb: ld,
                      beta: 1, c: gw.pointer, ldc: k)
        }
        if let gx {
            BLAS.gemm(m: cin, n: ld, k: k, a: weight.pointer, lda: k, b: columns.pointer, ldb: ld,
                      c: small.pointer, ldc: ld)
            scatterImages(small.pointer, first: first, count: count, channels: cin, positions: positions,
                          bias: nil, gx.pointer)
        }
    }
}
