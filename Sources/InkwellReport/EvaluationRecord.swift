import Foundation
import InkwellTraining

/// One evaluation file of a run (`evaluations/step-<8 digits>.json`, or an evaluate stage's
/// `evaluation.json`): where it is and its `EvaluationResult`, the one schema of that file
/// (docs/RUN-DIRECTORY.md). The result's fields read directly: `record.psnr`, `record.latent`.
@dynamicMemberLookup
public struct EvaluationRecord: Sendable {
    public var file: URL
    public var result: EvaluationResult

    public init(file: URL, result: EvaluationResult) {
        self.file = file
        self.result = result
    }

    public subscript<T>(dynamicMember path: KeyPath<EvaluationResult, T>) -> T { result[keyPath: path] }

    /// Run-relative paths of the sample images.
    public var fakesImage: String { result.images.fakes }
    public var reconstructionsImage: String { result.images.reconstructions }

    /// Reads one evaluation file. Throws a one-line error naming the file when it is not JSON, not
    /// an object, has no step (neither the `step` field nor a `step-N.json` name), or a field of
    /// the schema is missing or of the wrong type.
    public init(contentsOf url: URL) throws {
        let json = try JSONValue.read(url)
        guard json.object != nil else { throw ReportError.unreadable(url.path, reason: "not a JSON object") }
        var data = try Data(contentsOf: url)
        if json["step"] == nil {
            // A file named by its step: the name supplies the field.
            guard let step = RunLayout.step(ofEvaluationFile: url.lastPathComponent),
                  var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ReportError.unreadable(url.path, reason: "no `step` field")
            }
            object["step"] = step
            data = try JSONSerialization.data(withJSONObject: object)
        }
        do {
            self.init(file: url, result: try EvaluationResult.decode(data))
        } catch let error as EvaluationResult.DecodeError {
            throw ReportError.unreadable(url.path, reason: "not an evaluation (\(error.reason))")
        }
    }
}
