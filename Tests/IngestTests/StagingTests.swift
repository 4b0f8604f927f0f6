import Foundation
@testable import Ingest
import Ledger
import Testing
import TestSupport

/// Ingest into a real ledger database: dedupe, re-ingest, configuration checks, pricing, and
/// all-or-nothing per file. The nothing-lost equation holds in every test.
///
/// The event tests are the staging stores' conformance suite (issue 17): each body runs against SQLite
/// and, when `$CREDITS_TEST_POSTGRES_URL` names a server, against a PostgreSQL copy of the same ledger.
/// Serialised: run all at once, their thirty-odd cases (each with a database of its own) loaded a
/// 2-core CI machine enough that service tests running beside them timed out on HTTP.
@Suite(.serialized)
struct IngestStagingTests {
    let directory = TemporaryDirectory("ingest")

    func ledger(name: String = "ledger.sqlite") throws -> LedgerDatabase {
        let configuration = try ConfigurationLoader.load(directory: Fixtures.path("fixtures/config"))
        let database = try LedgerDatabase.create(at: directory.file(name))
        _ = try database.write { try $0.load(configuration) }
        return database
    }

    func write(_ name: String, _ lines: [String]) -> String {
        let path = directory.file(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        return path
    }

    func event(_ id: String, _ overrides: [String: String?] = [:]) -> String {
        var fields: [String: String?] = [
            "event_id": "\"\(id)\"", "organisation_id": "\"nca\"", "team": "\"border\"",
            "investigation": "\"op-harbour\"", "operation": "\"ocr\"",
        ]
        fields.merge(overrides) { $1 }
        return eventLine(fields)
    }

    @Test("every fixture day stages completely, and the counts add up", arguments: StoreKind.available)
    func fixtureDays(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = try EventIngester(store: database)
            var total = 0
            for name in ["events-2026-11-01.jsonl", "events-2026-11-02.json", "events-2026-11-03.jsonl.gz",
                         "events-2026-11-04.json.gz"] {
                let summary = try ingester.ingest(path: Fixtures.path("fixtures/events/" + name))
                #expect(summary.rejected == 0, "\(summary.rejectedByReason)")
                #expect(summary.staged == summary.read && summary.balances)
                total += summary.staged
            }
            #expect(total == 115)
            #expect(try database.stagedEventCount() == 115)
        }
    }

    @Test("the same file twice is recognised by its content and changes nothing", arguments: StoreKind.available)
    func sameFileTwice(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = try EventIngester(store: database)
            let path = Fixtures.path("fixtures/events/events-2026-11-01.jsonl")
            let first = try ingester.ingest(path: path)
            let second = try ingester.ingest(path: path)
            #expect(first.staged == 30)
            #expect(second.alreadyIngested && second.read == 0 && second.balances)
            #expect(try database.stagedEventCount() == 30)
        }
    }

    @Test("two files sharing records: duplicates counted, a changed record is eventIDConflict", arguments: StoreKind.available)
    func sharedRecords(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = try EventIngester(store: database)
            let a = write("a.jsonl", [event("e1"), event("e2"), event("e3")])
            let b = write("b.jsonl", [
                event("e2"), "  " + event("e3").replacingOccurrences(of: ":12", with: ":\"12.0\""), event("e4"),
                event("e1", ["credits": "13"]), event("e4"),
            ])
            _ = try ingester.ingest(path: a)
            let rejects = try RejectsWriter(path: directory.file("rejects.jsonl"))
            let summary = try ingester.ingest(path: b, displayName: "b.jsonl", rejects: rejects)
            try rejects.finish()
            #expect(summary.read == 5 && summary.staged == 1 && summary.duplicates == 3 && summary.rejected == 1)
            let line = try String(contentsOfFile: directory.file("rejects.jsonl"), encoding: .utf8)
            #expect(line.contains("\"reason\":\"eventIDConflict\""))
            #expect(line.contains("b.jsonl:4: event_id: \\\"e1\\\" was first staged from \(a):1 with different content"))
        }
    }

    @Test("a file of a new size is hashed while read: same fingerprint, and its rerun is still a no-op", arguments: StoreKind.available)
    func hashedWhileRead(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = try EventIngester(store: database)
            let path = write("one-pass.jsonl", [event("h1"), event("h2")])
            let first = try ingester.ingest(path: path)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(first.staged == 2 && first.balances)
            #expect(first.contentSHA256 == StagingDigest.hex(of: bytes) && first.bytes == Int64(bytes.count))
            #expect(try database.ingestedFile(contentSHA256: first.contentSHA256) != nil)
            let again = try ingester.ingest(path: path)
            #expect(again.alreadyIngested && again.read == 0 && again.contentSHA256 == first.contentSHA256)
            // Same size, other bytes: hashed up front, found new, staged.
            let twin = write("twin.jsonl", [event("h3"), event("h4")])
            let third = try ingester.ingest(path: twin)
            #expect(third.bytes == first.bytes && !third.alreadyIngested && third.staged == 2)
            #expect(third.contentSHA256 != first.contentSHA256)
        }
    }

    @Test("a file refused part-way still reports the SHA-256 of all its bytes", arguments: StoreKind.available)
    func refusedFileFingerprint(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let path = write("cut.json", ["[", event("c1") + ","])
            let summary = try EventIngester(store: database).ingest(path: path)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(summary.fileRejection != nil)
            #expect(summary.contentSHA256 == StagingDigest.hex(of: bytes) && summary.bytes == Int64(bytes.count))
        }
    }

    @Test("across many hand-off batches, rejections and conflicts are written in line order", arguments: StoreKind.available)
    func rejectsInLineOrderAcrossBatches(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let count = EventIngester.handOffBatchRecords * 3 + 17
            var lines: [String] = []
            for index in 0..<count {
                switch index % 7 {
                case 0: lines.append(event("p\(index)", ["team": "\"catering\""]))
                case 3 where index > 7: lines.append(event("p\(index - 2)", ["credits": "99"]))
                default: lines.append(event("p\(index)"))
                }
            }
            let rejects = try RejectsWriter(path: directory.file("order.jsonl"))
            let summary = try EventIngester(store: database)
                .ingest(path: write("many.jsonl", lines), displayName: "many.jsonl", rejects: rejects)
            try rejects.finish()
            #expect(summary.read == count && summary.balances)
            #expect(summary.rejectedByReason["unknownTeam"] ?? 0 > 0)
            #expect(summary.rejectedByReason["eventIDConflict"] ?? 0 > 0)
            let text = try String(contentsOfFile: directory.file("order.jsonl"), encoding: .utf8)
            let numbers = text.split(separator: "\n").compactMap { line -> Int? in
                guard let range = line.range(of: "\"line\":") else { return nil }
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
            #expect(numbers.count == summary.rejected)
            #expect(numbers == numbers.sorted())
        }
    }

    @Test("a file refused after many batches stages nothing and counts every record read before", arguments: StoreKind.available)
    func refusedAfterManyBatches(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let count = EventIngester.handOffBatchRecords * 2 + 5
            let elements = (0..<count).map { event("a\($0)") + "," }
            let path = write("long.json", ["["] + elements)
            let rejects = try RejectsWriter(path: directory.file("long-rejects.jsonl"))
            let summary = try EventIngester(store: database)
                .ingest(path: path, displayName: "long.json", rejects: rejects)
            try rejects.finish()
            #expect(summary.fileRejection?.contains("[malformedJSON]") == true)
            #expect(summary.read == count && summary.staged == 0 && summary.balances)
            #expect(try database.stagedEventCount() == 0)
            let again = try EventIngester(store: database).ingest(path: path)
            #expect(!again.alreadyIngested && again.fileRejection != nil, "a refused file is not recorded as ingested")
        }
    }

    @Test("records are checked against the configuration", arguments: [
        (["organisation_id": "\"scotland-yard\""], RejectionRule.unknownOrganisation, "organisation_id"),
        (["team": "\"catering\""], .unknownTeam, "team"),
        (["investigation": "\"op-nowhere\""], .unknownInvestigation, "investigation"),
        (["investigation": "\"op-kestrel\""], .investigationOfAnotherOrganisation, "investigation"),
        (["operation": "\"telepathy\""], .unknownOperation, "operation"),
        (["credits": nil, "quantity": "3", "unit": "\"gallon\""], .noRateCardEntry, "unit"),
        (["credits": nil, "quantity": "\"0.0000001\"", "unit": "\"page\""], .creditsMustBePositive, "quantity"),
    ] as [([String: String?], RejectionRule, String)], StoreKind.available)
    func configurationRules(
        broken: (overrides: [String: String?], rule: RejectionRule, field: String), store kind: StoreKind
    ) async throws {
        let (overrides, rule, field) = broken
        try await withStagingStore(kind, for: try ledger()) { database in
            let rejects = try RejectsWriter(path: directory.file("r.jsonl"))
            let summary = try EventIngester(store: database)
                .ingest(path: write("c.jsonl", [event("x", overrides)]), displayName: "c.jsonl", rejects: rejects)
            try rejects.finish()
            #expect(summary.rejectedByReason == [rule.code: 1])
            let text = try String(contentsOfFile: directory.file("r.jsonl"), encoding: .utf8)
            #expect(text.contains("\"field\":\"\(field)\""))
            #expect(text.contains("\"line\":1"))
        }
    }

    @Test("quantities are priced by the organisation's rate, else the default card, exactly", arguments: StoreKind.available)
    func pricing(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let lines = [
                event("q1", [
                    "credits": nil, "quantity": "\"8.5\"", "unit": "\"minute\"", "operation": "\"transcription\"",
                ]),
                event("q2", ["credits": nil, "quantity": "3", "unit": "\"minute\"", "operation": "\"transcription\"",
                             "organisation_id": "\"europol-ec3\"", "team": "\"j-cat\"", "investigation": "\"op-endgame\""]),
            ]
            let summary = try EventIngester(store: database).ingest(path: write("p.jsonl", lines))
            #expect(summary.staged == 2)
            let ingester = try EventIngester(store: database)
            let rate = ingester.directory.rate(organisationID: "nca", operation: "transcription", unit: "minute")
            #expect(rate == credits("2.5"))
            let minutes = ExactDecimal(significand: 85, scale: 1)
            #expect(Pricing.credits(quantity: minutes, rate: credits("2.5")) == credits("21.25"))
            #expect(
                Pricing.credits(quantity: ExactDecimal(significand: 10_000_005, scale: 7), rate: credits("1"))
                    == credits("1"), "half-even: 1.0000005 rounds to the even micro-credit")
            #expect(
                Pricing.credits(quantity: ExactDecimal(significand: 10_000_015, scale: 7), rate: credits("1"))
                    == credits("1.000002"))
            #expect(ingester.directory.rate(organisationID: "europol-ec3", operation: "transcription", unit: "minute")
                == credits("2.25"))
        }
    }

    /// Issue 15, D5: the ledger keeps each file's rejections with its staging, so a run that finds
    /// the file already ingested writes the very same rejects again (byte for byte, in line order,
    /// across hand-off batches, with a cut raw line still marked cut) and exits 3 again.
    @Test("an already ingested file's rejections are written again, byte for byte", arguments: StoreKind.available)
    func rejectionsWrittenAgainForAnIngestedFile(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let count = EventIngester.handOffBatchRecords * 2 + 5
            var lines: [String] = []
            for index in 0..<count {
                lines.append(index % 9 == 4 ? event("r\(index)", ["team": "\"catering\""]) : event("r\(index)"))
            }
            lines.append(event("long", ["credits": "-1", "padding": "\"" + String(repeating: "x", count: 6000) + "\""]))
            let path = write("rejects-twice.jsonl", lines)
            func run(_ name: String) throws -> (IngestFileSummary, Data) {
                let rejects = try RejectsWriter(path: directory.file(name))
                let summary = try EventIngester(store: database)
                    .ingest(path: path, displayName: "rejects-twice.jsonl", rejects: rejects)
                try rejects.finish()
                return (summary, try Data(contentsOf: URL(fileURLWithPath: directory.file(name))))
            }
            let (first, firstRejects) = try run("first.jsonl")
            let (again, againRejects) = try run("again.jsonl")
            #expect(first.rejected > 2 && !first.alreadyIngested)
            #expect(again.alreadyIngested && again.read == 0 && again.balances)
            #expect(again.rejectedWhenIngested == first.rejected)
            #expect(againRejects == firstRejects)
            #expect(String(decoding: againRejects, as: UTF8.self).contains("\"raw_truncated\":true"))
            #expect(IngestRunSummary(files: [again]).hasRejections, "the rerun exits 3, as the first run did")
        }
    }

    @Test("order rejections are kept with the file and written again when it is ingested again",
          arguments: StoreKind.available)
    func orderRejectionsWrittenAgain(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let path = Fixtures.path("fixtures/errors/orders-json-missing-amount.jsonl")
            var outputs: [Data] = []
            var summaries: [IngestFileSummary] = []
            for name in ["orders-first.jsonl", "orders-again.jsonl"] {
                let rejects = try RejectsWriter(path: directory.file(name))
                summaries.append(try OrderIngester(store: database).ingest(path: path, displayName: "o.jsonl", rejects: rejects))
                try rejects.finish()
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: directory.file(name))))
            }
            #expect(summaries[0].rejected == 1 && summaries[1].alreadyIngested && summaries[1].rejectedWhenIngested == 1)
            #expect(outputs[0] == outputs[1] && !outputs[0].isEmpty)
        }
    }

    @Test("a file refused whole keeps no rejection in the ledger: its rerun reads it again", arguments: StoreKind.available)
    func refusedFileKeepsNoRejection(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let path = write("refused.json", ["[", event("c1", ["credits": "-1"]) + ","])
            for _ in 0..<2 {
                let summary = try EventIngester(store: database).ingest(path: path)
                #expect(summary.fileRejection != nil && !summary.alreadyIngested && summary.rejectedWhenIngested == 0)
            }
        }
    }

    @Test("a file refused whole stages nothing, and its rejects are replaced by the file's reason", arguments: StoreKind.available)
    func refusedFile(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let path = write("broken.json", ["[", event("b1") + ",", event("b2", ["credits": "-1"]) + ","])
            let rejects = try RejectsWriter(path: directory.file("rejects.jsonl"))
            let summary = try EventIngester(store: database)
                .ingest(path: path, displayName: "broken.json", rejects: rejects)
            try rejects.finish()
            #expect(summary.fileRejection?.contains("[malformedJSON]") == true)
            #expect(summary.staged == 0 && summary.balances && summary.read == 2)
            #expect(try database.stagedEventCount() == 0)
            let lines = try String(contentsOfFile: directory.file("rejects.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("the array is not closed"))
            #expect(IngestRunSummary(files: [summary]).filesRefused == 1, "a file refused whole: the stage exits 65")
        }
    }

    @Test("nothing lost: random mixes of good, duplicate, conflicting and broken lines always add up", arguments: StoreKind.available)
    func nothingLost(store kind: StoreKind) async throws {
        var generator = SeededRandom(label: "StagingTests.nothingLost")
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = try EventIngester(store: database)
            var expectedStaged = 0
            for file in 0..<3 {
                var lines: [String] = []
                for _ in 0..<300 {
                    let id = "r\(generator.next() % 400)"
                    switch generator.next() % 10 {
                    case 0: lines.append(event(id, ["credits": "-1"]))
                    case 1: lines.append("{\"event_id\": \"\(id)\", oops")
                    case 2: lines.append(event(id, ["credits": "\(generator.next() % 5 + 1)"]))
                    default: lines.append(event(id))
                    }
                }
                let summary = try ingester.ingest(path: write("f\(file).jsonl", lines))
                #expect(summary.balances, "seed \(generator.seed)")
                #expect(summary.read == 300, "seed \(generator.seed)")
                expectedStaged += summary.staged
            }
            #expect(try database.stagedEventCount() == expectedStaged, "seed \(generator.seed)")
        }
    }

    @Test("order exports stage each distinct view once; the same view in another format is a duplicate",
          arguments: StoreKind.available)
    func orders(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = OrderIngester(store: database)
            let current = try ingester.ingest(path: Fixtures.path("fixtures/orders/orders-current.json"))
            let legacy = try ingester.ingest(path: Fixtures.path("fixtures/orders/orders-legacy.json"))
            let lines = try ingester.ingest(path: Fixtures.path("fixtures/orders/orders.jsonl"))
            let settlement = try ingester.ingest(path: Fixtures.path("fixtures/orders/settlement_report.csv"))
            let again = try ingester.ingest(path: Fixtures.path("fixtures/orders/settlement_report.csv"))
            #expect(current.staged == 8 && legacy.staged == 8)
            #expect(current.ordersNotTied == 0)
            #expect(legacy.ordersNotTied == 0, "the current views staged before carry the metadata")
            #expect(lines.duplicates == 8 && lines.staged == 0)
            #expect(settlement.staged == 4 && again.alreadyIngested)
            let views = try database.observations(ofOrder: "6a0f3c10-1b2e-a4d1-9c3e-0f1a2b3c4d01")
            #expect(Set(views.map(\.source)) == ["api", "legacy_api", "settlement_csv"])
            #expect(views.allSatisfy { $0.amount == Money(minorUnits: 45000, currency: .gbp) })
        }
    }

    @Test("an export of thousands of views: repeats within and across files, and ties found across slices",
          arguments: StoreKind.available)
    func manyOrderViews(store kind: StoreKind) async throws {
        func order(_ index: Int, state: String, metadata: Bool) -> String {
            "{\"id\":\"order-\(index)\",\"type\":\"payment\",\"state\":\"\(state)\",\"amount\":\(1000 + index),"
                + "\"currency\":\"GBP\",\"created_at\":\"2026-11-01T09:00:00Z\",\"updated_at\":\"2026-11-01T09:0\(state == "pending" ? 0 : 1):00Z\""
                + (metadata ? ",\"metadata\":{\"organisation_id\":\"nca\",\"package_id\":\"pack_10k\"}" : "") + "}"
        }
        try await withStagingStore(kind, for: try ledger()) { database in
            let ingester = OrderIngester(store: database)
            // 5,000 orders seen pending; every third carries its metadata. A view repeated in the same file
            // is a duplicate.
            var first = (0..<5_000).map { order($0, state: "pending", metadata: $0 % 3 == 0) }
            first += (0..<50).map { order($0 * 97, state: "pending", metadata: $0 * 97 % 3 == 0) }
            let pending = try ingester.ingest(path: write("pending.jsonl", first))
            #expect(pending.staged == 5_000 && pending.duplicates == 50 && pending.balances)
            #expect(pending.ordersNotTied == (0..<5_000).filter { $0 % 3 != 0 }.count + (0..<50).filter { $0 * 97 % 3 != 0 }.count)
            // Later, the same orders completed, none with metadata: tied by the earlier views, which lie in
            // other slices of the export than the view that asks.
            let completed = try ingester.ingest(
                path: write("completed.jsonl", (0..<5_000).reversed().map { order($0, state: "completed", metadata: false) }))
            #expect(completed.staged == 5_000 && completed.duplicates == 0)
            #expect(completed.ordersNotTied == (0..<5_000).filter { $0 % 3 != 0 }.count)
            let views = try database.observations(ofOrder: "order-4998")
            #expect(views.map(\.state) == [.pending, .completed] && views.allSatisfy { $0.sourceLine == ($0.state == .pending ? 4_999 : 2) })
        }
    }

    @Test("alone, a legacy export's refund and chargeback carry no tie to an organisation",
          arguments: StoreKind.available)
    func legacyOrdersAlone(store kind: StoreKind) async throws {
        try await withStagingStore(kind, for: try ledger()) { database in
            let legacyFirst = try OrderIngester(store: database).ingest(path: Fixtures.path("fixtures/orders/orders-legacy.json"))
            #expect(legacyFirst.ordersNotTied == 2, "alone, the legacy refund and chargeback carry no tie")
        }
    }
}

/// D9: usage dated before its organisation started (`plan_start` in its time zone) is refused at
/// staging with a named rule, whatever else is right with it; the instant of the start is accepted.
struct UsageBeforeOrganisationStartTests {
    let directory = TemporaryDirectory("ingest-start")

    @Test("2001 usage and usage a second before met-police's plan start are refused; the start itself is not")
    func refusedBeforeStart() throws {
        let configuration = try ConfigurationLoader.load(directory: Fixtures.path("fixtures/config"))
        let database = try LedgerDatabase.create(at: directory.file("ledger.sqlite"))
        _ = try database.write { try $0.load(configuration) }
        // met-police: plan_start 2026-11-01, Europe/London (GMT in November): 2026-11-01T00:00:00Z.
        func line(_ id: String, _ at: String) -> String {
            eventLine([
                "event_id": "\"\(id)\"", "organisation_id": "\"met-police\"", "team": "\"cyber-crime\"",
                "investigation": "\"op-kestrel\"", "operation": "\"ocr\"", "occurred_at": "\"\(at)\"",
            ])
        }
        let path = directory.file("old.jsonl")
        try (line("old-1", "2001-01-01T00:00:00Z") + "\n" + line("old-2", "2026-10-31T23:59:59.999Z") + "\n"
            + line("new-1", "2026-11-01T00:00:00Z") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let summary = try EventIngester(store: database).ingest(path: path, displayName: "old.jsonl")
        #expect(summary.staged == 1 && summary.rejected == 2 && summary.balances, "\(summary)")
        #expect(summary.rejectedByReason["occurredBeforeOrganisationStart"] == 2, "\(summary.rejectedByReason)")
        #expect(try database.stagedEventCount() == 1)
    }
}
