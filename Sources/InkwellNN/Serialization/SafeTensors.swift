import Foundation
import InkwellEngine
import InkwellFiles

// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets":
// [begin, end]}, ..., "__metadata__": {"key": "value"}}`, then the raw little-endian data, the
// offsets relative to the end of the header. Inkwell writes F32 tensors and I64 counters
// (`num_batches_tracked`); it reads F32, F64, F16, BF16, I64, I32 and U8, converting to Float.

/// A problem with a safetensors file, naming the file and, where one is at fault, the tensor.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let tensor: String?
    public let reason: String

    public init(file: String, tensor: String? = nil, reason: String) {
        self.file = file; self.tensor = tensor; self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(reason)" }
        return "\(file): \(reason)"
    }
}

/// Element types of the safetensors format that Inkwell reads.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8"

    public var byteWidth: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .f16, .bf16: return 2
        case .u8: return 1
        }
    }
}

/// One tensor's description in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range within the data section.
    public let begin: Int
    public let end: Int
}

/// A safetensors file read into memory: its header, checked, and typed access to each tensor.
public struct SafeTensorsFile {
    public let url: URL
    /// Entries in file (data offset) order.
    public let entries: [SafeTensorsEntry]
    public let metadata: [String: String]
    private let index: [String: Int]
    private let data: Data
    private let dataStart: Int

    /// Reads and validates `url`: header length, JSON, dtypes, shapes and byte ranges
    /// (every range within the file, sized by dtype and shape, not overlapping).
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafeTensorsError(file: file, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(data: data, url: url)
    }

    /// Parses safetensors bytes; `url` names the source in errors.
    public init(data: Data, url: URL) throws {
        let file = url.path
        self.url = url
        self.data = data
        guard data.count >= 8 else {
            throw SafeTensorsError(file: file, reason: "truncated: \(data.count) bytes, shorter than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafeTensorsError(file: file, reason: "truncated: header says \(headerLength) bytes of JSON, the file has \(data.count - 8) after the length")
        }
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw SafeTensorsError(file: file, reason: "bad header: not a JSON object")
        }
        dataStart = 8 + Int(headerLength)
        let dataLength = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError(file: file, reason: "bad header: __metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError(file: file, reason: "bad header: __metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafeTensorsError(file: file, tensor: name, reason: "bad header: entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafeTensorsError(file: file, tensor: name, reason: "bad header: no dtype")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError(file: file, tensor: name, reason: "unsupported dtype \(dtypeName) (readable: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shapeValues = info["shape"] as? [Any],
                  let shape = Optional(shapeValues.compactMap { ($0 as? NSNumber)?.intValue }), shape.count == shapeValues.count,
                  shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(file: file, tensor: name, reason: "bad header: shape is not a list of non-negative integers")
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else {
                throw SafeTensorsError(file: file, tensor: name, reason: "bad header: data_offsets is not [begin, end]")
            }
            guard let expected = Shape.byteCount(shape, elementBytes: dtype.byteWidth) else {
                throw SafeTensorsError(file: file, tensor: name, reason: "bad header: shape \(Shape.describe(shape)) is too large (its byte count overflows)")
            }
            guard end - begin == expected else {
                throw SafeTensorsError(file: file, tensor: name,
                                       reason: "bad header: \(dtypeName) \(Shape.describe(shape)) needs \(expected) bytes, data_offsets span \(end - begin)")
            }
            guard end <= dataLength else {
                throw SafeTensorsError(file: file, tensor: name,
                                       reason: "truncated: data ends at byte \(end) of the data section, which has \(dataLength) bytes")
            }
            entries.append(SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end && b.end > b.begin {
            throw SafeTensorsError(file: file, tensor: b.name, reason: "bad header: data overlaps tensor '\(a.name)'")
        }
        self.entries = entries
        self.metadata = metadata
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// Tensor names, sorted.
    public var names: [String] { entries.map(\.name).sorted() }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The entry named `name`, or an error naming the file and the tensor.
    public func entry(_ name: String) throws -> SafeTensorsEntry {
        guard let i = index[name] else {
            throw SafeTensorsError(file: url.path, tensor: name, reason: "missing (the file has \(entries.count) tensors)")
        }
        return entries[i]
    }

    /// The tensor `name` as Float32, converted from its stored dtype.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let t = Tensor(zeros: e.shape)
        let n = t.count
        let out = t.pointer
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart + e.begin
            switch e.dtype {
            case .f32: for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f64: for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .f16: for i in 0..<n { out[i] = halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bf16: for i in 0..<n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .i64: for i in 0..<n { out[i] = Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .i32: for i in 0..<n { out[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .u8: for i in 0..<n { out[i] = Float(base.load(fromByteOffset: i, as: UInt8.self)) }
            }
        }
        return t
    }

    /// The tensor `name` as float32, with a check that its shape is `shape`.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let e = try entry(name)
        guard e.shape == shape else {
            throw SafeTensorsError(file: url.path, tensor: name, reason: "shape \(Shape.describe(e.shape)) does not match the expected \(Shape.describe(shape))")
        }
        return try tensor(name)
    }

    /// An integer tensor's values (I64, I32, U8; a float dtype must hold whole numbers).
    public func integers(_ name: String) throws -> [Int64] {
        let e = try entry(name)
        switch e.dtype {
        case .i64, .i32, .u8:
            let n = Shape.count(e.shape)
            return data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                return (0..<n).map { i -> Int64 in
                    switch e.dtype {
                    case .i64: return Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    case .i32: return Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                    default: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
                    }
                }
            }
        default:
            let values = try tensor(name).values
            guard values.allSatisfy({ $0.rounded() == $0 && abs($0) < 9e15 }) else {
                throw SafeTensorsError(file: url.path, tensor: name, reason: "dtype \(e.dtype.rawValue) holds non-integer values where integers are expected")
            }
            return values.map { Int64($0) }
        }
    }

    /// Every tensor, converted to float32, by name.
    public func allTensors() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for e in entries { result[e.name] = try tensor(e.name) }
        return result
    }
}

/// IEEE half precision bits to Float.
private func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
}

/// Writing safetensors files.
public enum SafeTensors {
    /// One tensor to write: float32 values or int64 values, with a shape.
    public enum Item {
        case float(Tensor)
        case int64(shape: [Int], values: [Int64])
    }

    /// Reads every tensor of `url` as float32, by name.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        try SafeTensorsFile(contentsOf: url).allTensors()
    }

    /// Writes float32 tensors (in the given order) to `url`.
    public static func write(_ tensors: [(String, Tensor)], to url: URL, metadata: [String: String] = [:]) throws {
        try write(items: tensors.map { ($0.0, Item.float($0.1)) }, to: url, metadata: metadata)
    }

    /// The bytes of a safetensors file holding `items` in the given order.
    public static func encode(items: [(String, Item)], metadata: [String: String] = [:]) throws -> Data {
        var seen = Set<String>()
        var header: [String: Any] = [:]
        var offset = 0
        var ranges: [(Int, Int)] = []
        for (name, item) in items {
            guard seen.insert(name).inserted else {
                throw SafeTensorsError(file: "<encode>", tensor: name, reason: "name given twice")
            }
            guard name != "__metadata__" else {
                throw SafeTensorsError(file: "<encode>", tensor: name, reason: "reserved name")
            }
            let (dtype, shape, bytes): (String, [Int], Int)
            switch item {
            case .float(let t): (dtype, shape, bytes) = ("F32", t.shape, t.count * 4)
            case .int64(let s, let v):
                guard Shape.count(s) == v.count else {
                    throw SafeTensorsError(file: "<encode>", tensor: name, reason: "shape \(Shape.describe(s)) needs \(Shape.count(s)) values, got \(v.count)")
                }
                (dtype, shape, bytes) = ("I64", s, v.count * 8)
            }
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            ranges.append((offset, bytes))
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, item) in items {
            switch item {
            case .float(let t):
                var values = t.values.map { $0.bitPattern.littleEndian }
                values.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            case .int64(_, let v):
                var values = v.map { $0.littleEndian }
                values.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes `items` to `url` through a temporary file renamed into place, so a reader never sees
    /// a partial file.
    public static func write(items: [(String, Item)], to url: URL, metadata: [String: String] = [:]) throws {
        let data: Data
        do { data = try encode(items: items, metadata: metadata) } catch let e as SafeTensorsError {
            throw SafeTensorsError(file: url.path, tensor: e.tensor, reason: e.reason)
        }
        try writeAtomically(data, to: url)
    }

    /// Writes `data` atomically (`AtomicFile`), creating the folder when it is missing; a failure
    /// names the file.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(data, to: url)
        } catch let error as FileWriteError {
            throw SafeTensorsError(file: error.path, reason: error.reason)
        } catch {
            throw SafeTensorsError(file: url.path, reason: "cannot create its folder: \(error.localizedDescription)")
        }
    }
}
