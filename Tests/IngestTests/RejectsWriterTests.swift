import Foundation
import Ingest
import Testing

struct RejectsWriterTests {
    @Test("rejects are JSON Lines with file, line, field, reason, message and the raw line, cut to the limit")
    func writesJSONLines() throws {
        let scratch = ScratchDirectory()
        let path = scratch.url.appendingPathComponent("rejects.jsonl").path
        let writer = try RejectsWriter(path: path)
        let raw = Array(String(repeating: "x", count: IngestLimits.rejectRawBytesMax + 10).utf8)
        try writer.write(Rejection(
            .creditsMustBePositive, file: "e.jsonl", line: 3, column: 9, field: "credits",
            detail: "must be greater than zero, got -5", raw: Array("{\"credits\":-5}".utf8)))
        try writer.write(Rejection(.lineTooLong, file: "e.jsonl", line: 4, detail: "too long", raw: raw))
        #expect(!FileManager.default.fileExists(atPath: path), "nothing under the real name before finish")
        try writer.finish()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && writer.count == 2)
        #expect(lines[0] == "{\"column\":9,\"field\":\"credits\",\"file\":\"e.jsonl\",\"line\":3,\"message\":"
            + "\"e.jsonl:3:9: credits: must be greater than zero, got -5 [creditsMustBePositive]\","
            + "\"raw\":\"{\\\"credits\\\":-5}\",\"reason\":\"creditsMustBePositive\"}")
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect((second?["raw"] as? String)?.utf8.count == IngestLimits.rejectRawBytesMax)
        #expect(second?["raw_truncated"] as? Bool == true)
        #expect(second?["reason"] as? String == "lineTooLong")
    }
}
