import Foundation
import XCTest
import InkwellDataset
import InkwellTestSupport

/// Inputs on which the .npy reader trapped (found by the FuzzNPYHeader target), kept in
/// Fuzz/Regressions/FuzzNPYHeader: each is now one error naming the file.
final class NPYFuzzRegressionTests: XCTestCase {
    func testEveryKeptFuzzInputIsAnErrorNamingTheFile() throws {
        for url in try FuzzRegressions.inputs("FuzzNPYHeader") {
            XCTAssertThrowsError(try FloatNPY.read(url), url.lastPathComponent) { error in
                XCTAssertEqual((error as? DatasetError)?.kind, .malformed, "\(error)")
                XCTAssertTrue("\(error)".contains(url.path), "\(error)")
            }
            let data = try Data(contentsOf: url)
            XCTAssertThrowsError(try data.withUnsafeBytes { try NPYFormat.parseHeader($0, dtypes: FloatNPY.descriptors) })
        }
    }

    /// Was: an arithmetic overflow trap multiplying the dimensions (the fuzzer's inputs) or the
    /// element count by 4; a uint8 shard header is refused the same way.
    func testAShapeWhoseByteCountOverflowsIsRefused() {
        let header = NPYFormat.header(shape: [Int.max, 2])
        XCTAssertThrowsError(try header.withUnsafeBytes { try NPYFormat.parseHeader($0) }) { error in
            XCTAssertEqual("\(error)", "shape [9223372036854775807, 2] is too large (its byte count overflows)")
        }
        let float = Data(NPYFormat.header(shape: [1 << 62], descr: "<f4"))
        XCTAssertThrowsError(try FloatNPY.decode(float, file: "/x/z.npy")) { error in
            XCTAssertTrue("\(error)".contains("/x/z.npy"), "\(error)")
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }
}
