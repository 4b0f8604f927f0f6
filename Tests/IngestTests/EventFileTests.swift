import Foundation
import Ingest
import Ledger
import Testing

/// Reading cost-event files: every layout, gzip by content, line numbers, file-level failures.
struct EventFileTests {
    func read(_ path: String, limits: IngestLimits = .standard) throws -> (CostEventReader, [CostEventOutcome]) {
        let reader = try CostEventReader(path: path, limits: limits)
        return (reader, try reader.readAll())
    }

    @Test("the fixture days read completely in every layout", arguments: [
        ("events-2026-11-01.jsonl", 30, EventFileLayout.jsonLines, false),
        ("events-2026-11-02.json", 25, .jsonArray, false),
        ("events-2026-11-03.jsonl.gz", 40, .jsonLines, true),
        ("events-2026-11-04.json.gz", 20, .jsonArray, true),
    ])
    func fixtureDays(name: String, count: Int, layout: EventFileLayout, gzip: Bool) throws {
        let (reader, outcomes) = try read(Fixtures.path("fixtures/events/" + name))
        #expect(outcomes.count == count)
        #expect(outcomes.allSatisfy { $0.event != nil }, "\(outcomes.compactMap(\.rejection).map(\.message))")
        #expect(reader.layout == layout)
        #expect(reader.isGzip == gzip)
        #expect(reader.recordsRead == count)
    }

    @Test("a UTF-8 BOM, CRLF endings and blank lines are accepted; line numbers count every line")
    func bomCRLFAndBlankLines() throws {
        let scratch = ScratchDirectory()
        let text = "\u{FEFF}" + eventLine(["event_id": "\"a\""]) + "\r\n\r\n"
            + eventLine(["event_id": "\"b\"", "credits": "-1"]) + "\r\n"
        let (_, outcomes) = try read(scratch.write("bom.jsonl", text))
        #expect(outcomes.count == 2)
        #expect(outcomes[0].event?.eventID == "a")
        #expect(outcomes[0].event?.source.line == 1)
        #expect(outcomes[1].rejection?.line == 3)
        #expect(outcomes[1].rejection?.rule == .creditsMustBePositive)
    }

    @Test("array elements carry the line they start on, and errors the line of the field")
    func arrayLineNumbers() throws {
        let scratch = ScratchDirectory()
        let text = "[\n  " + eventLine() + ",\n  {\n    \"event_id\": \"e2\",\n    \"organisation_id\": \"nca\",\n"
            + "    \"team\": \"t\",\n    \"operation\": \"ocr\",\n    \"credits\": -3,\n"
            + "    \"occurred_at\": \"2026-11-03T09:15:00Z\"\n  }\n]\n"
        let (reader, outcomes) = try read(scratch.write("array.json", text))
        #expect(reader.layout == .jsonArray)
        #expect(outcomes.first?.event?.source.line == 2)
        let rejection = try #require(outcomes.last?.rejection)
        #expect(rejection.line == 8)
        #expect(rejection.column == 16)
        #expect(rejection.field == "credits")
    }

    @Test("an empty array is a file with no events, not an error")
    func emptyArray() throws {
        let scratch = ScratchDirectory()
        let (_, outcomes) = try read(scratch.write("empty.json", "[ ]\n"))
        #expect(outcomes.isEmpty)
    }

    @Test("a missing file is exit 66, a directory exit 74")
    func missingAndDirectory() throws {
        let scratch = ScratchDirectory()
        #expect(throws: InputError.fileMissing(path: scratch.url.path + "/nope.jsonl")) {
            _ = try CostEventReader(path: scratch.url.path + "/nope.jsonl")
        }
        do {
            _ = try CostEventReader(path: scratch.url.path)
            Issue.record("a directory must not open")
        } catch {
            #expect(error.failureClass == .io, "exit 74")
        }
    }

    @Test("gzip is detected by content, not by name")
    func gzipByContent() throws {
        let scratch = ScratchDirectory()
        let text = eventLine() + "\n"
        let disguised = try scratch.writeGzip("events.jsonl", Array(text.utf8))
        let plainNamedGz = scratch.write("plain.jsonl.gz", text)
        let (gzReader, gzOutcomes) = try read(disguised)
        let (plainReader, plainOutcomes) = try read(plainNamedGz)
        #expect(gzReader.isGzip && !plainReader.isGzip)
        #expect(gzOutcomes.first?.event?.canonicalBytes == plainOutcomes.first?.event?.canonicalBytes)
    }

    @Test("concatenated gzip members are read in turn, as gunzip does")
    func concatenatedMembers() throws {
        let scratch = ScratchDirectory()
        let first = try scratch.writeGzip("a.gz", Array((eventLine(["event_id": "\"a\""]) + "\n").utf8))
        let second = try scratch.writeGzip("b.gz", Array((eventLine(["event_id": "\"b\""]) + "\n").utf8))
        let joined = try Data(contentsOf: URL(fileURLWithPath: first)) + Data(contentsOf: URL(fileURLWithPath: second))
        let (_, outcomes) = try read(scratch.write("ab.jsonl.gz", [UInt8](joined)))
        #expect(outcomes.compactMap(\.event?.eventID) == ["a", "b"])
    }

    @Test("a gzip file inflating to exactly decompressedBytesMax is read; one byte more is refused")
    func decompressedLimit() throws {
        let scratch = ScratchDirectory()
        let text = eventLine() + "\n"
        let path = try scratch.writeGzip("e.jsonl.gz", Array(text.utf8))
        var limits = IngestLimits.standard
        limits.decompressedBytesMax = Int64(text.utf8.count)
        #expect(try read(path, limits: limits).1.count == 1)
        limits.decompressedBytesMax -= 1
        do {
            _ = try read(path, limits: limits)
            Issue.record("expected decompressedTooLarge")
        } catch {
            guard case InputError.fileRejected(let rejection)? = error as? InputError else { throw error }
            #expect(rejection.rule == .decompressedTooLarge)
            #expect(rejection.detail.contains("decompressedBytesMax (\(limits.decompressedBytesMax) bytes)"))
        }
    }

    @Test("the compression-ratio guard trips on a bomb but not on ordinary JSON")
    func compressionRatio() throws {
        let scratch = ScratchDirectory()
        var limits = IngestLimits.standard
        limits.compressionRatioGraceBytes = 0
        let ordinary = try scratch.writeGzip("o.jsonl.gz", Array((eventLine() + "\n").utf8))
        #expect(try read(ordinary, limits: limits).1.count == 1)
        let bomb = try scratch.writeGzip("b.jsonl.gz", [UInt8](repeating: 0x20, count: 4_000_000))
        #expect(throws: InputError.self) { _ = try read(bomb, limits: limits) }
    }
}
