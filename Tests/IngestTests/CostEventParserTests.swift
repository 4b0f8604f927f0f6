@testable import Ingest
import Ledger
import Testing
import TestSupport

/// The cost-event scanner: accepted forms, canonical content, and which rule each bad form breaks.
struct CostEventParserTests {
    @Test("accepted spellings of credits", arguments: [
        ("12", 12_000_000), ("\"12\"", 12_000_000), ("\"1.50\"", 1_500_000), ("1.5", 1_500_000),
        ("1e2", 100_000_000), ("\"0.000001\"", 1), ("2.5E-1", 250_000),
    ] as [(String, Int64)])
    func creditsForms(text: String, micro: Int64) {
        #expect(parseEvent(eventLine(["credits": text])).event?.credits?.microcredits == micro)
    }

    @Test("a full event keeps every field, attributes raw and extras canonical")
    func fullEvent() throws {
        let line = eventLine([
            "attributes": "{ \"model\" : \"gpt-4.1\", \"tokens\": {\"in\": 10} }", "zeta": "[1, 2]", "alpha": "true",
        ])
        let record = try #require(parseEvent(line).event)
        #expect(record.eventID == "evt_1" && record.organisationID == "met-police")
        #expect(record.team == "cyber-crime-unit" && record.investigation == "op-falcon")
        #expect(record.operation == "llm.completion")
        #expect(record.charge == .credits(Credits(12)))
        #expect(record.occurredAt == (try Instant.parse("2026-11-03T09:15:00Z").get()))
        #expect(record.attributesJSON == "{ \"model\" : \"gpt-4.1\", \"tokens\": {\"in\": 10} }")
        #expect(record.extrasJSON == "{\"alpha\":true,\"zeta\":[1,2]}")
        #expect(record.source == SourcePosition(file: "test.jsonl", line: 1))
    }

    @Test("quantity and unit are carried exactly for the rate card")
    func quantityAndUnit() throws {
        let record = try #require(
            parseEvent(eventLine(["credits": nil, "quantity": "\"2.50\"", "unit": "\"audio_minute\""])).event)
        #expect(record.charge == .quantity(ExactDecimal(significand: 25, scale: 1), unit: "audio_minute"))
        #expect(record.credits == nil)
    }

    /// Issue 16: a unit that names credits only restates the credits, so the record is a charge of
    /// that many credits, with the same content (and hash) as the record without the unit.
    @Test("credits with unit credit or credits and no quantity is a charge of credits", arguments: ["credit", "credits"])
    func creditUnit(unit: String) throws {
        let record = try #require(parseEvent(eventLine(["unit": "\"\(unit)\""])).event)
        #expect(record.charge == .credits(Credits(12)))
        let plain = try #require(parseEvent(eventLine()).event)
        #expect(record.canonicalBytes == plain.canonicalBytes)
        // Another unit beside credits, or a quantity beside them, is still both forms at once.
        #expect(parseEvent(eventLine(["unit": "\"page\""])).rejection?.rule == .bothCreditsAndQuantity)
        let both = parseEvent(eventLine(["unit": "\"\(unit)\"", "quantity": "3"]))
        #expect(both.rejection?.rule == .bothCreditsAndQuantity)
    }

    @Test("investigation and attributes may be null or absent")
    func optionalFields() {
        #expect(parseEvent(eventLine(["investigation": "null", "attributes": "null"])).event?.investigation == nil)
        #expect(parseEvent(eventLine(["investigation": nil])).event?.attributesJSON == nil)
    }

    @Test("the same content hashes equal whatever the key order, spacing, escapes and offset")
    func canonicalEquality() throws {
        let a = "{\"event_id\":\"evt_1\",\"organisation_id\":\"nca\",\"team\":\"t\",\"operation\":\"ocr\","
            + "\"credits\":12.5,\"occurred_at\":\"2026-11-03T10:15:00+01:00\","
            + "\"attributes\":{\"b\":[1,{\"y\":2,\"x\":1}],\"a\":\"\\u0041/\"},\"extra\":{\"k\":1,\"j\":2}}"
        let b = "{ \"extra\" : { \"j\" : 2 , \"k\" : 1 } , \"attributes\" : { \"a\" : \"A\\/\" ,"
            + " \"b\" : [ 1 , { \"x\" : 1 , \"y\" : 2 } ] } , \"occurred_at\" : \"2026-11-03T09:15:00.000Z\" ,"
            + " \"credits\" : \"12.50\" , \"operation\" : \"ocr\" , \"team\" : \"t\" , \"organisation_id\" : \"nca\" ,"
            + " \"event_id\" : \"evt_1\" }"
        let first = try #require(parseEvent(a).event)
        let second = try #require(parseEvent(b).event)
        #expect(first.canonicalBytes == second.canonicalBytes)
        let canonical = String(decoding: first.canonicalBytes, as: UTF8.self)
        #expect(canonical == "{\"attributes\":{\"a\":\"A/\",\"b\":[1,{\"x\":1,\"y\":2}]},\"credits\":\"12.5\","
            + "\"event_id\":\"evt_1\",\"extra\":{\"j\":2,\"k\":1},\"occurred_at\":\"2026-11-03T09:15:00.000Z\","
            + "\"operation\":\"ocr\",\"organisation_id\":\"nca\",\"team\":\"t\"}")
    }

    @Test("the record's canonical bytes equal the sorted-member object, whatever the unknown keys")
    func canonicalWriterMatchesSortedObject() throws {
        var generator = SeededRandom(seed: 7)
        let keys = ["a", "attributes_x", "b_", "credit", "event", "event_id_2", "investigatio", "occurred", "op",
                    "organisation", "p", "quantity_", "teams", "u", "unit_", "zz", "\\u00e9"]
        for round in 0..<200 {
            var extras: [String: String?] = [:]
            for key in keys where generator.next() % 4 == 0 { extras[key] = "\(generator.next() % 100)" }
            if generator.next() % 2 == 0 { extras["attributes"] = "{\"z\":1,\"a\":[true,null]}" }
            if generator.next() % 3 == 0 { extras.updateValue(nil, forKey: "investigation") }
            if generator.next() % 3 == 0 {
                extras.updateValue(nil, forKey: "credits")
                extras["quantity"] = "\"2.50\""
                extras["unit"] = "\"page\""
            }
            let object = try #require(parseEvent(eventLine(extras)).event, "round \(round)")
            var members: [(key: [UInt8], value: [UInt8])] = []
            func add(_ key: String, _ value: String) { members.append((Array(key.utf8), Array(value.utf8))) }
            add("event_id", "\"\(object.eventID)\"")
            add("organisation_id", "\"\(object.organisationID)\"")
            add("team", "\"\(object.team)\"")
            add("operation", "\"\(object.operation)\"")
            if let investigation = object.investigation { add("investigation", "\"\(investigation)\"") }
            switch object.charge {
            case .credits(let credits): add("credits", "\"\(credits)\"")
            case .quantity(let quantity, let unit):
                add("quantity", "\"\(quantity)\"")
                add("unit", "\"\(unit)\"")
            }
            add("occurred_at", "\"\(object.occurredAt.iso8601)\"")
            if extras["attributes"] != nil { add("attributes", "{\"a\":[true,null],\"z\":1}") }
            for key in keys where extras[key] != nil {
                let decoded = key == "\\u00e9" ? "\u{e9}" : key
                add(decoded, extras[key].flatMap { $0 } ?? "")
            }
            #expect(object.canonicalBytes == CanonicalJSON.object(members), "round \(round)")
        }
    }

    @Test("different content gives different canonical bytes", arguments: [
        ["credits": "13"], ["attributes": "{\"k\":1.0}"], ["investigation": nil], ["extra": "1"],
        ["occurred_at": "\"2026-11-03T09:15:00.001Z\""],
    ] as [[String: String?]])
    func canonicalDifference(change: [String: String?]) throws {
        let base = try #require(parseEvent(eventLine(["attributes": "{\"k\":1}"])).event)
        var overrides: [String: String?] = ["attributes": "{\"k\":1}"]
        overrides.merge(change) { $1 }
        let other = try #require(parseEvent(eventLine(overrides)).event)
        #expect(base.canonicalBytes != other.canonicalBytes)
    }

    @Test("each bad form breaks its named rule, reported on the right field", arguments: [
        (["credits": "\"\""], RejectionRule.creditsMalformed, "credits"),
        (["credits": "8.526512829121202e-14"], .creditsTooManyDecimalPlaces, "credits"),
        (["credits": "0.0000000000000000000001"], .creditsTooManyDecimalPlaces, "credits"),
        (["credits": "1e19"], .creditsOutOfRange, "credits"),
        (["quantity": "3", "credits": nil, "unit": "\"\""], .idEmpty, "unit"),
        (["credits": nil, "unit": "\"page\""], .fieldMissing, "quantity"),
        (["credits": nil, "quantity": "\"1e400\"", "unit": "\"page\""], .quantityOutOfRange, "quantity"),
        (["credits": nil, "quantity": "\"two\"", "unit": "\"page\""], .quantityMalformed, "quantity"),
        (["credits": nil, "quantity": "-1", "unit": "\"page\""], .quantityMustBePositive, "quantity"),
        (["team": "\"cyber\\tunit\""], .idMustBePrintableASCII, "team"),
        (["team": "\"unit \""], .idHasSurroundingWhitespace, "team"),
        (["attributes": "{\"a\":1,\"a\":2}"], .duplicateKey, "attributes.a"),
        (["attributes": "{\"a\":\"\\ud800\"}"], .malformedJSON, "attributes.a"),
        (["attributes": "{\"a\":01}"], .malformedJSON, "attributes.a"),
        (["attributes": "{\"a\":{\"b\":[{\"c\":01}]}}"], .malformedJSON, "attributes.a.b.c"),
        (["attributes": "{\"x\":{\"y\":1,\"y\":2}}"], .duplicateKey, "attributes.x.y"),
        (["zeta": "{\"attributes\":{\"k\":tru}}"], .malformedJSON, "zeta.attributes.k"),
        (["team": "\"a\u{1}b\""], .malformedJSON, "team"),
        (["investigation": "7"], .fieldWrongType, "investigation"),
        (["occurred_at": "\"2026-11-03T09:15:00+0100\""], nil, ""),
    ] as [([String: String?], RejectionRule?, String)])
    func rules(overrides: [String: String?], rule: RejectionRule?, field: String) {
        let outcome = parseEvent(eventLine(overrides))
        #expect(outcome.rejection?.rule == rule)
        if rule != nil { #expect(outcome.rejection?.field == field) }
    }

    /// D13: sub-millisecond digits are refused, never truncated, so `.1231Z` and `.1239Z` under one
    /// id cannot pass for a duplicate; zeros after the milliseconds are exact and accepted.
    @Test("occurred_at: at most millisecond precision, trailing zeros accepted", arguments: [
        ("2026-11-03T09:15:00.1231Z", nil),
        ("2026-11-03T09:15:00.1239Z", nil),
        ("2026-11-03T09:15:00.123000001+01:00", nil),
        ("2026-11-03T09:15:00.123000Z", "2026-11-03T09:15:00.123Z"),
        ("2026-11-03T09:15:00.1Z", "2026-11-03T09:15:00.100Z"),
        ("2026-11-03T09:15:00Z", "2026-11-03T09:15:00.000Z"),
    ] as [(String, String?)])
    func subMillisecondPrecision(text: String, accepted: String?) {
        let outcome = parseEvent(eventLine(["occurred_at": "\"\(text)\""]))
        if let accepted {
            #expect(outcome.event?.occurredAt.iso8601 == accepted)
        } else {
            #expect(outcome.rejection?.rule == .timestampFinerThanMilliseconds)
            #expect(outcome.rejection?.field == "occurred_at")
        }
    }

    /// D14: the rule docs/LEDGER.md states: zeros beyond the unit's decimals are exact and accepted
    /// (the same value, the same content hash); a non-zero digit there is refused, never rounded.
    @Test("credits: trailing zeros beyond six decimals are accepted as exact, other digits refused")
    func creditsTrailingZeros() throws {
        let padded = try #require(parseEvent(eventLine(["credits": "\"1.0000000\""])).event)
        let plain = try #require(parseEvent(eventLine(["credits": "1"])).event)
        #expect(padded.credits == plain.credits)
        #expect(padded.canonicalBytes == plain.canonicalBytes)
        #expect(parseEvent(eventLine(["credits": "1.0000001"])).rejection?.rule == .creditsTooManyDecimalPlaces)
    }

    @Test("the message names file, line, column, field and code")
    func messageLayout() throws {
        let rejection = try #require(
            CostEventParser(displayName: "inbox/e.jsonl").parse(Array(eventLine(["credits": "-5"]).utf8), line: 7)
                .rejection)
        #expect(rejection.message == "inbox/e.jsonl:7:145: credits: must be greater than zero, got -5 "
            + "[creditsMustBePositive]")
        #expect(rejection.description.hasSuffix("\n" + RejectionRule.creditsMustBePositive.hint))
    }

    @Test("every rule has a distinct code and a hint")
    func ruleCatalogue() {
        let codes = RejectionRule.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(RejectionRule.allCases.allSatisfy { !$0.hint.isEmpty })
    }
}

/// Identifier edge cases from TESTPLAN 6.3.
struct IdentifierEdgeTests {
    @Test("ids differing only by case are different ids; ids are compared byte for byte")
    func caseMatters() throws {
        let lower = try #require(parseEvent(eventLine(["event_id": "\"evt_a\""])).event)
        let upper = try #require(parseEvent(eventLine(["event_id": "\"EVT_A\""])).event)
        #expect(lower.eventID != upper.eventID)
        #expect(lower.canonicalBytes != upper.canonicalBytes)
    }

    @Test("composed and decomposed é are both refused, so they can never be two spellings of one id")
    func unicodeNormalisation() {
        #expect(parseEvent(eventLine(["event_id": "\"caf\u{E9}\""])).rejection?.rule == .idMustBePrintableASCII)
        #expect(parseEvent(eventLine(["event_id": "\"cafe\u{301}\""])).rejection?.rule == .idMustBePrintableASCII)
    }

    @Test("an escaped id decodes before it is checked: \\u0041 is A")
    func escapedID() {
        #expect(parseEvent(eventLine(["event_id": "\"evt_\\u0041\""])).event?.eventID == "evt_A")
    }
}
