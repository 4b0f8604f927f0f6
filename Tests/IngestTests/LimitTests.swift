import Ingest
import Ledger
import Testing

/// Every named limit: accepted at the limit, rejected one past it with the limit in the message.
struct LimitTests {
    /// A valid event line padded (with an unknown field) to exactly `length` bytes.
    func paddedLine(length: Int) -> String {
        let base = eventLine(["pad": "\"\""])
        return eventLine(["pad": "\"" + String(repeating: "x", count: length - base.utf8.count) + "\""])
    }

    func outcomes(_ text: String, name: String = "limits.jsonl", limits: IngestLimits = .standard) throws
        -> [CostEventOutcome]
    {
        let scratch = ScratchDirectory()
        return try CostEventReader(path: scratch.write(name, text), limits: limits).readAll()
    }

    @Test("eventLineBytesMax: a line at the limit is read, one byte more is lineTooLong", arguments: ["\n", "\r\n"])
    func lineLength(ending: String) throws {
        let limit = IngestLimits.eventLineBytesMax
        let atLimit = paddedLine(length: limit)
        #expect(atLimit.utf8.count == limit)
        let read = try outcomes(atLimit + ending + paddedLine(length: limit + 1) + ending + eventLine() + ending)
        #expect(read.count == 3)
        #expect(read[0].event != nil)
        let rejection = try #require(read[1].rejection)
        #expect(rejection.rule == .lineTooLong)
        #expect(rejection.line == 2)
        #expect(rejection.detail.contains("eventLineBytesMax (\(limit) bytes)"))
        #expect((rejection.raw?.count ?? 0) <= IngestLimits.rejectRawBytesMax)
        #expect(read[2].event != nil, "the line after a long one is read normally")
    }

    @Test("eventLineBytesMax applies to array elements too")
    func arrayElementLength() throws {
        let limit = 2000
        var limits = IngestLimits.standard
        limits.eventLineBytesMax = limit
        let read = try outcomes(
            "[" + paddedLine(length: limit) + ",\n " + paddedLine(length: limit + 1) + "]", name: "a.json",
            limits: limits)
        #expect(read[0].event != nil)
        #expect(read[1].rejection?.rule == .lineTooLong)
        #expect(read[1].rejection?.line == 2)
    }

    @Test("a 10 MB line is rejected without being kept")
    func tenMegabyteLine() throws {
        let huge = "{\"event_id\":\"" + String(repeating: "e", count: 10_000_000) + "\"}"
        let read = try outcomes(huge + "\n" + eventLine() + "\n")
        #expect(read[0].rejection?.rule == .lineTooLong)
        #expect(read[0].rejection?.raw?.count == IngestLimits.rejectRawBytesMax)
        #expect(read[1].event != nil)
    }

    @Test("eventIDBytesMax: 128 bytes accepted, 129 rejected")
    func idLength() {
        let limit = IngestLimits.eventIDBytesMax
        let ok = parseEvent(eventLine(["event_id": "\"" + String(repeating: "e", count: limit) + "\""]))
        #expect(ok.event?.eventID.utf8.count == limit)
        let long = parseEvent(eventLine(["team": "\"" + String(repeating: "t", count: limit + 1) + "\""]))
        #expect(long.rejection?.rule == .idTooLong)
        #expect(long.rejection?.field == "team")
        #expect(long.rejection?.detail.contains("eventIDBytesMax (\(limit) bytes)") == true)
    }

    @Test("attributesDepthMax: 32 levels accepted, 33 rejected")
    func attributesDepth() {
        let limit = IngestLimits.attributesDepthMax
        func nested(_ depth: Int) -> String {
            String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        }
        #expect(parseEvent(eventLine(["attributes": nested(limit)])).event != nil)
        let deep = parseEvent(eventLine(["attributes": nested(limit + 1)]))
        #expect(deep.rejection?.rule == .attributesTooDeep)
        #expect(deep.rejection?.detail.contains("attributesDepthMax (\(limit) levels)") == true)
        let deepExtra = parseEvent(eventLine(["extra": nested(limit + 1)]))
        #expect(deepExtra.rejection?.field == "extra")
    }

    @Test("attributesBytesMax: a value of exactly the limit is accepted, one byte more rejected")
    func attributesSize() {
        let limit = IngestLimits.attributesBytesMax
        func attributes(_ size: Int) -> String {
            "{\"k\":\"" + String(repeating: "a", count: size - 8) + "\"}"
        }
        #expect(attributes(limit).utf8.count == limit)
        #expect(parseEvent(eventLine(["attributes": attributes(limit)])).event != nil)
        let big = parseEvent(eventLine(["attributes": attributes(limit + 1)]))
        #expect(big.rejection?.rule == .attributesTooLarge)
        #expect(big.rejection?.detail.contains("attributesBytesMax (\(limit) bytes)") == true)
    }

    @Test("attributes with many keys stay within the size limit's protection")
    func manyKeys() {
        let keys = (0..<20_000).map { "\"k\($0)\":1" }.joined(separator: ",")
        #expect(parseEvent(eventLine(["attributes": "{" + keys + "}"])).rejection?.rule == .attributesTooLarge)
    }

    @Test("credits: Int64.max micro-credits parse, one more is out of range")
    func creditsRange() {
        let max = parseEvent(eventLine(["credits": "\"9223372036854.775807\""]))
        #expect(max.event?.credits?.microcredits == Int64.max)
        #expect(parseEvent(eventLine(["credits": "9223372036854.775808"])).rejection?.rule == .creditsOutOfRange)
    }

    /// What an event may charge, stated or priced, through the one rule batch and live both use.
    func charge(_ overrides: [String: String?], rate: Credits? = nil) throws -> RateCardPricing.Outcome {
        let record = try #require(parseEvent(eventLine(overrides)).event)
        return RateCardPricing.charge(of: record) { _, _, _ in rate }
    }

    @Test("Credits.transferMax: an event of 10^9 credits is charged, one micro-credit more is refused")
    func creditsPerEventLimit() throws {
        #expect(Credits.transferMax == Credits(1_000_000_000))
        #expect(try charge(["credits": "1000000000"]) == .priced(Credits.transferMax, nil))
        guard case .rejected(let over) = try charge(["credits": "1000000000.000001"]) else {
            Issue.record("one micro-credit over the limit was charged")
            return
        }
        #expect(over.rule == .creditsAboveEventLimit)
        #expect(over.field == "credits")
        #expect(over.detail.contains("1000000000 credits, Credits.transferMax"))
        guard case .rejected(let int64Max) = try charge(["credits": "\"9223372036854.775807\""]) else {
            Issue.record("Int64.max micro-credits were charged")
            return
        }
        #expect(int64Max.rule == .creditsAboveEventLimit)
    }

    @Test("Credits.transferMax applies to quantity × rate as well")
    func pricedPerEventLimit() throws {
        let quantity: [String: String?] = ["credits": nil, "quantity": "2000000000", "unit": "\"page\""]
        guard case .rejected(let over) = try charge(quantity, rate: Credits(1)) else {
            Issue.record("2e9 pages at 1 credit were charged")
            return
        }
        #expect(over.rule == .creditsAboveEventLimit)
        #expect(over.field == "quantity")
        let atLimit: [String: String?] = ["credits": nil, "quantity": "1000000000", "unit": "\"page\""]
        guard case .priced(let credits, _) = try charge(atLimit, rate: Credits(1)) else {
            Issue.record("1e9 pages at 1 credit were refused")
            return
        }
        #expect(credits == Credits.transferMax)
    }

    @Test("csvRecordBytesMax: a row at the limit is read, one byte more is rejected")
    func csvRecordLength() throws {
        let header = "order_id,type,state,amount,currency,transaction_id"
        let row = "o1,SETTLEMENT,COMPLETED,1.00,GBP,"
        var limits = IngestLimits.standard
        limits.csvRecordBytesMax = 200
        let scratch = ScratchDirectory()
        let fits = row + String(repeating: "t", count: 200 - row.utf8.count - 2) + "\r\n"
        let over = row + String(repeating: "t", count: 200 - row.utf8.count - 1) + "\r\n"
        let file = try RevolutOrderReader.read(
            path: scratch.write("r.csv", header + "\r\n" + fits + over), limits: limits)
        #expect(file.outcomes[0].order != nil)
        #expect(file.outcomes[1].rejection?.rule == .csvRecordTooLong)
        #expect(file.outcomes[1].rejection?.detail.contains("csvRecordBytesMax (200 bytes)") == true)
    }

    @Test("orderFileBytesMax: a file of exactly the limit is read, one byte more is refused")
    func orderFileSize() throws {
        let scratch = ScratchDirectory()
        let text = "{\"orders\":[]}"
        var limits = IngestLimits.standard
        limits.orderFileBytesMax = text.utf8.count
        let path = scratch.write("o.json", text)
        #expect(try RevolutOrderReader.read(path: path, limits: limits).outcomes.isEmpty)
        limits.orderFileBytesMax -= 1
        #expect(throws: InputError.self) { _ = try RevolutOrderReader.read(path: path, limits: limits) }
    }
}
