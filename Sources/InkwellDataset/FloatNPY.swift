import Foundation

/// float32 arrays as `.npy` files: the latent matrices that `inkwell encode` writes and `decode`,
/// `sample --latents` read, so the same latents can drive NumPy or PyTorch
/// (`np.load("z.npy")` is a (N, D) float32 array).
public enum FloatNPY {
    /// The float32 spellings NumPy writes on a little-endian machine.
    public static let descriptors: Set<String> = ["<f4", "f4", "=f4"]

    /// Writes `values` (C order) as a little-endian float32 array of `shape`, atomically.
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        precondition(shape.reduce(1, *) == values.count, "FloatNPY.write: \(values.count) values for shape \(shape)")
        var data = Data(NPYFormat.header(shape: shape, descr: "<f4"))
        var little = values.map { $0.bitPattern.littleEndian }
        little.withUnsafeMutableBytes { data.append(contentsOf: $0) }
        try FileIO.writeAtomically(data, to: url)
    }

    /// Reads a float32 array: its shape and values (C order). A missing file, another dtype, or a
    /// size that does not match the header is one error naming the file.
    public static func read(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError(.notFound, path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes the bytes of a float32 `.npy` file; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> (shape: [Int], values: [Float]) {
        let header: NPYFormat.Header
        do { header = try data.withUnsafeBytes { try NPYFormat.parseHeader($0, dtypes: descriptors) } } catch let error as NPYHeaderError {
            throw DatasetError(.malformed, path: file, reason: "\(error.reason) (expected float32, '<f4')")
        }
        let count = header.shape.reduce(1, *)
        guard data.count - header.dataOffset == count * 4 else {
            throw DatasetError(.malformed, path: file,
                               reason: "shape \(header.shape) needs \(count * 4) bytes of data, the file has \(data.count - header.dataOffset)")
        }
        let values = data.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: header.dataOffset + 4 * $0, as: UInt32.self))) }
        }
        return (header.shape, values)
    }
}
