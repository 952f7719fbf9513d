// Convolution primitives: conv2d and conv_transpose2d (NCHW, square stride and padding, zero
// padding), lowered to sgemm through im2col / col2im one image at a time.
//
// A transposed convolution is the gradient of a convolution with respect to its input: its
// forward is the convolution's input-gradient (gemm then col2im) and its backward reuses the
// convolution's forward lowering (im2col then gemm).

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

    /// Writes the (C*kh*kw, OH*OW) column matrix of `image`.
    public func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>) {
        let (oh, ow, s, p) = (outHeight, outWidth, stride, padding)
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<kernelHeight {
                for kj in 0..<kernelWidth {
                    let row = columns + ((c * kernelHeight + ki) * kernelWidth + kj) * oh * ow
                    for y in 0..<oh {
                        let iy = y * s + ki - p
                        let dst = row + y * ow
                        if iy < 0 || iy >= height {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * width
                        for x in 0..<ow {
                            let ix = x * s + kj - p
                            dst[x] = (ix >= 0 && ix < width) ? src[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// Adds the (C*kh*kw, OH*OW) column matrix back into `image` (which the caller zeroes).
    public func col2im(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
        let (oh, ow, s, p) = (outHeight, outWidth, stride, padding)
        for c in 0..<channels {
            let plane = image + c * height * width
            for ki in 0..<kernelHeight {
                for kj in 0..<kernelWidth {
                    let row = columns + ((c * kernelHeight + ki) * kernelWidth + kj) * oh * ow
                    for y in 0..<oh {
                        let iy = y * s + ki - p
                        if iy < 0 || iy >= height { continue }
                        let src = row + y * ow
                        let dst = plane + iy * width
                        for x in 0..<ow {
                            let ix = x * s + kj - p
                            if ix >= 0 && ix < width { dst[ix] += src[x] }
                        }
                    }
                }
            }
        }
    }
}

/// 2-D convolution (cross-correlation, as PyTorch).
/// - x: (N, C, H, W); weight: (O, C, kh, kw); bias: (O) or nil.
/// - Returns (N, O, (H + 2p - kh) / stride + 1, (W + 2p - kw) / stride + 1).
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
    guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[1] else {
        shapeMismatch("conv2d", x.shape, weight.shape, "input (N, C, H, W) vs weight (O, C, kh, kw)")
    }
    let (n, o) = (x.shape[0], weight.shape[0])
    if let bias, bias.shape != [o] { shapeMismatch("conv2d", weight.shape, bias.shape, "weight (O, C, kh, kw) vs bias (O)") }
    let geo = ConvGeometry(channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                           kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], stride: stride, padding: padding)
    guard geo.outHeight > 0, geo.outWidth > 0 else {
        shapeMismatch("conv2d", x.shape, weight.shape, "kernel larger than the padded input")
    }
    let (k, positions) = (geo.patchSize, geo.positions)
    let imageSize = geo.channels * geo.height * geo.width
    let out = Tensor.empty([n, o, geo.outHeight, geo.outWidth])
    let columns = TensorStorage(count: k * positions, zeroed: false)
    for i in 0..<n {
        geo.im2col(x.pointer + i * imageSize, columns.pointer)
        let y = out.pointer + i * o * positions
        if let bias {
            for oc in 0..<o { (y + oc * positions).update(repeating: bias.pointer[oc], count: positions) }
        }
        BLAS.gemm(m: o, n: positions, k: k, a: weight.pointer, lda: k, b: columns.pointer, ldb: positions,
                  beta: bias == nil ? 0 : 1, c: y, ldc: positions)
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("conv2d", inputs, saving: [x, weight]) { g, needs in
        let needX = needs[0], needW = needs[1], needB = needs.count > 2 && needs[2]
        let gx = needX ? Tensor(zeros: x.shape) : nil
        let gw = needW ? Tensor(zeros: weight.shape) : nil
        let gb = needB ? Tensor(zeros: [o]) : nil
        let columns = TensorStorage(count: k * positions, zeroed: false)
        for i in 0..<n {
            let gy = g.pointer + i * o * positions
            if let gw {
                geo.im2col(x.pointer + i * imageSize, columns.pointer)
                BLAS.gemm(transB: true, m: o, n: k, k: positions, a: gy, lda: positions, b: columns.pointer, ldb: positions,
                          beta: 1, c: gw.pointer, ldc: k)
            }
            if let gx {
                BLAS.gemm(transA: true, m: k, n: positions, k: o, a: weight.pointer, lda: k, b: gy, ldb: positions,
                          c: columns.pointer, ldc: positions)
                geo.col2im(columns.pointer, gx.pointer + i * imageSize)
            }
            if let gb {
                for oc in 0..<o { gb.pointer[oc] += Float(Kernels.sum(gy + oc * positions, positions)) }
            }
        }
        return [gx, gw, gb].prefix(inputs.count).map { $0 }
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
    guard oh > 0, ow > 0 else { shapeMismatch("conv_transpose2d", x.shape, weight.shape, "padding leaves no output") }
    // The convolution whose input-gradient this is: an (Cout, oh, ow) map lowered to (h, w).
    let geo = ConvGeometry(channels: cout, height: oh, width: ow, kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding)
    precondition(geo.outHeight == h && geo.outWidth == w, "conv_transpose2d: geometry does not invert")
    let (k, positions, outSize) = (geo.patchSize, h * w, cout * oh * ow)
    let out = Tensor(zeros: [n, cout, oh, ow])
    let columns = TensorStorage(count: k * positions, zeroed: false)
    for i in 0..<n {
        BLAS.gemm(transA: true, m: k, n: positions, k: cin, a: weight.pointer, lda: k,
                  b: x.pointer + i * cin * positions, ldb: positions, c: columns.pointer, ldc: positions)
        geo.col2im(columns.pointer, out.pointer + i * outSize)
        if let bias {
            let y = out.pointer + i * outSize
            for c in 0..<cout { let b = bias.pointer[c]; for j in 0..<(oh * ow) { y[c * oh * ow + j] += b } }
        }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("conv_transpose2d", inputs, saving: [x, weight]) { g, needs in
        let needB = needs.count > 2 && needs[2]
        let gx = needs[0] ? Tensor.empty(x.shape) : nil
        let gw = needs[1] ? Tensor(zeros: weight.shape) : nil
        let gb = needB ? Tensor(zeros: [cout]) : nil
        let columns = TensorStorage(count: k * positions, zeroed: false)
        for i in 0..<n {
            let gy = g.pointer + i * outSize
            if gx != nil || gw != nil { geo.im2col(gy, columns.pointer) }
            if let gx {
                BLAS.gemm(m: cin, n: positions, k: k, a: weight.pointer, lda: k, b: columns.pointer, ldb: positions,
                          c: gx.pointer + i * cin * positions, ldc: positions)
            }
            if let gw {
                BLAS.gemm(transB: true, m: cin, n: k, k: positions, a: x.pointer + i * cin * positions, lda: positions,
                          b: columns.pointer, ldb: positions, beta: 1, c: gw.pointer, ldc: k)
            }
            if let gb {
                for c in 0..<cout { gb.pointer[c] += Float(Kernels.sum(gy + c * oh * ow, oh * ow)) }
            }
        }
        return [gx, gw, gb].prefix(inputs.count).map { $0 }
    }
}
