import Foundation
import InkwellEngine

/// The NumPy `.npy` format (version 1.0) for uint8 frame shards (and float32 latent matrices,
/// `FloatNPY`).
///
/// A shard is `magic "\x93NUMPY", 0x01 0x00, header length (uint16 little-endian), header`, then
/// the raw bytes in C order. The header is a Python dict literal
/// `{'descr': '|u1', 'fortran_order': False, 'shape': (N, H, W, 3), }` padded with spaces and a
/// final newline so that the data starts at a multiple of 64 bytes (the alignment NumPy itself
/// uses, and what makes memory-mapped rows aligned).
public enum NPYFormat {
    /// The data offset alignment.
    public static let alignment = 64
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY

    /// The uint8 dtype's spellings.
    public static let uint8Descriptors: Set<String> = ["|u1", "<u1", ">u1", "u1"]

    /// The complete header (magic, version, length, dict, padding) for an array of `shape` whose
    /// dtype is `descr` (default uint8, `|u1`; `<f4` for little-endian float32).
    public static func header(shape: [Int], descr: String = "|u1") -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let fixed = magic.count + 2 + 2
        let unpadded = fixed + dict.utf8.count + 1
        let padded = (unpadded + alignment - 1) / alignment * alignment
        dict += String(repeating: " ", count: padded - unpadded) + "\n"
        let length = UInt16(dict.utf8.count)
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dict.utf8)
    }

    /// A parsed header: the element shape, where the data starts and the dtype as written.
    public struct Header: Equatable, Sendable {
        public var shape: [Int]
        public var dataOffset: Int
        public var descr: String = "|u1"
    }

    /// Parses the header at the start of `bytes` (at least the first `dataOffset` bytes of a
    /// file). Accepts versions 1.0 to 3.0, a dtype among `dtypes` (default uint8:
    /// `|u1`/`<u1`/`>u1`/`u1`), C order only.
    public static func parseHeader(_ bytes: UnsafeRawBufferPointer, dtypes: Set<String> = uint8Descriptors) throws -> Header {
        func bad(_ why: String) -> NPYHeaderError { NPYHeaderError(reason: why) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("not a .npy file (bad magic)") }
        let major = bytes[6]
        let lengthBytes: Int, headerLength: Int
        switch major {
        case 1:
            lengthBytes = 2
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header") }
            lengthBytes = 4
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw bad("unsupported .npy version \(major).\(bytes[7])")
        }
        let start = 8 + lengthBytes
        guard bytes.count >= start + headerLength else { throw bad("truncated header") }
        guard let text = String(bytes: bytes[start..<(start + headerLength)], encoding: .utf8) else {
            throw bad("header is not text")
        }
        guard let descr = value(of: "descr", in: text) else { throw bad("header has no 'descr'") }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard dtypes.contains(dtype) else {
            throw bad(dtypes == uint8Descriptors ? "dtype \(dtype) is not uint8" : "dtype \(dtype) is not one of \(dtypes.sorted().joined(separator: ", "))")
        }
        guard let order = value(of: "fortran_order", in: text) else { throw bad("header has no 'fortran_order'") }
        guard order.trimmingCharacters(in: .whitespaces) == "False" else { throw bad("Fortran order is not supported") }
        guard let open = text.range(of: "'shape'"), let lp = text[open.upperBound...].firstIndex(of: "("),
              let rp = text[lp...].firstIndex(of: ")") else { throw bad("header has no 'shape'") }
        let dims = text[text.index(after: lp)..<rp].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw bad("bad shape entry '\(d)'") }
            shape.append(v)
        }
        // Elements are at most 8 bytes: callers may multiply the dimensions and the width freely.
        guard Shape.byteCount(shape, elementBytes: 8) != nil else { throw bad("shape \(shape) is too large (its byte count overflows)") }
        return Header(shape: shape, dataOffset: start + headerLength, descr: dtype)
    }

    /// The text after `'key':` up to the next top-level comma (good enough for the three keys).
    private static func value(of key: String, in text: String) -> String? {
        guard let r = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\"") else { return nil }
        guard let colon = text[r.upperBound...].firstIndex(of: ":") else { return nil }
        let rest = text[text.index(after: colon)...]
        let end = rest.firstIndex(of: ",") ?? rest.firstIndex(of: "}") ?? rest.endIndex
        return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
    }
}

/// A `.npy` header that cannot be used.
public struct NPYHeaderError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
