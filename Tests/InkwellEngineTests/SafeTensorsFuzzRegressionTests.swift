import Foundation
import XCTest
import InkwellNN
import InkwellTestSupport

/// Inputs on which the safetensors reader trapped (found with the FuzzSafeTensors target's
/// crash check), kept in Fuzz/Regressions/FuzzSafeTensors: each is now one error naming the file.
final class SafeTensorsFuzzRegressionTests: XCTestCase {
    func testEveryKeptFuzzInputIsAnErrorNamingTheFile() throws {
        for url in try FuzzRegressions.inputs("FuzzSafeTensors") {
            XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url), url.lastPathComponent) { error in
                XCTAssertTrue(error is SafeTensorsError, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix(url.path), "\(error)")
            }
        }
    }

    /// Was: an arithmetic overflow trap computing the byte count of [2^32, 2^32].
    func testAShapeWhoseByteCountOverflowsIsRefused() throws {
        let header = Data(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) }
        bytes.append(header)
        XCTAssertThrowsError(try SafeTensorsFile(data: bytes, url: URL(fileURLWithPath: "/x/big.safetensors"))) { error in
            XCTAssertEqual("\(error)", "/x/big.safetensors: tensor 'w': bad header: shape [4294967296, 4294967296] is too large (its byte count overflows)")
        }
    }
}
