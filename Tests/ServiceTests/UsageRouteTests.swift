import Foundation
import Ingest
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// `POST /v1/usage` over a real ledger: recorded once, gated by spendable balance and priority, 402 bodies,
/// duplicates and conflicts, and parallel spends that never pass the floor (I12, F5). Every test runs on
/// both stores the service runs on (`StoreKind.available`): the same answers from SQLite and PostgreSQL.
@Suite struct UsageRouteTests {
    let directory = TemporaryDirectory("service-usage")

    /// `met`: 150 credits, 100 reserved for P1 (`op-urgent` is P1, `op-routine` P3); `gmp`: nothing.
    /// Rate cards: `ocr` by the `page` at 0.5 by default, 0.333333 for `met`. `operations`: the configured
    /// list (nil: any operation).
    func withUsageService(
        _ store: StoreKind, operations: [String]? = nil, metPlanStart: LocalDate? = nil, usageEarliest: LocalDate? = nil,
        _ body: (ServiceHTTPTests.Harness, any LiveLedger) async throws -> Void
    ) async throws {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        var met = SampleWorld.organisation("met", reservations: [reservation])
        met.planStart = metPlanStart
        var configuration = SampleWorld.configuration([met, SampleWorld.organisation("gmp")])
        configuration.rateCards = [
            RateCardEntry(organisationID: nil, operation: "ocr", unit: "page", creditsPerUnit: credits("0.5")),
            RateCardEntry(organisationID: "met", operation: "ocr", unit: "page", creditsPerUnit: credits("0.333333")),
        ]
        configuration.operations = operations
        configuration.issuer.usageEarliest = usageEarliest
        try await withLiveLedger(store, in: directory, configuration: configuration) { ledger in
            try await grantTopUp(credits("150"), to: "met", in: ledger)
            try await ServiceHTTPTests.withService(spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger)) { service in
                try await body(service, ledger)
            }
        }
    }

    static func event(
        _ id: String, org: String = "met", credits: String = "10", investigation: String? = nil,
        occurredAt: String = "2026-11-20T10:00:00Z"
    ) -> String {
        let investigationField = investigation.map { #","investigation":"\#($0)""# } ?? ""
        return #"{"event_id":"\#(id)","organisation_id":"\#(org)","team":"analysis","operation":"ocr","#
            + #""credits":\#(credits),"occurred_at":"\#(occurredAt)"\#(investigationField),"#
            + #""attributes":{"pages":3}}"#
    }

    static func post(_ service: ServiceHTTPTests.Harness, _ body: String, key: String = ServiceHTTPTests.metKey.key)
        async throws -> HTTPAnswer
    {
        try await send(
            "POST", service.url("v1/usage"),
            headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"], body: Data(body.utf8))
    }

    func available(_ ledger: any LiveLedger, _ org: String = "met") async throws -> Credits {
        try await ledger.read { try $0.balance(of: org).available }
    }

    @Test(arguments: StoreKind.available) func testRecordsOnceAndAnswersDuplicatesAndConflicts(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            let first = try await Self.post(service, Self.event("e1", credits: #""12.5""#))
            #expect(first.status == 201, "\(first.text)")
            #expect(try first.json()["status"] as? String == "recorded")
            #expect(try await available(ledger) == credits("137.5"))

            let again = try await Self.post(service, Self.event("e1", credits: #""12.5""#))
            #expect(again.status == 200)
            #expect(try again.json()["status"] as? String == "duplicate")
            #expect(try again.json()["transfer_id"] as? Int == first.json()["transfer_id"] as? Int)

            let conflict = try await Self.post(service, Self.event("e1", credits: "13"))
            try ServiceHTTPTests.expectProblem(conflict, status: 409)
            #expect(try await available(ledger) == credits("137.5"))
            let deduction = try await ledger.read { try $0.transfer(idempotencyKey: "deduction:cost-event:e1") }
            #expect(deduction?.references.costEventID == "e1")
            #expect(deduction?.references.operation == "ocr")
            // Charged by the caller's key, as the audit trail records it.
            #expect(deduction?.actor == .apiKey(id: try #require(APIKey.hash(presented: ServiceHTTPTests.metKey.key)?.id)))
        }
    }

    @Test(arguments: StoreKind.available) func testZeroBalanceAndReserveFloorAre402(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            let broke = try await Self.post(service, Self.event("g1", org: "gmp"), key: ServiceHTTPTests.adminKey.key)
            try ServiceHTTPTests.expectProblem(broke, status: 402)
            #expect(try broke.json()["rule"] as? String == "insufficient_balance")
            #expect(try broke.json()["spendable_credits"] as? String == "0")

            let routine = try await Self.post(service, Self.event("m1", credits: "60", investigation: "op-routine"))
            try ServiceHTTPTests.expectProblem(routine, status: 402)
            #expect(try routine.json()["rule"] as? String == "reserve_floor")
            #expect(try routine.json()["spendable_credits"] as? String == "50")
            #expect(try routine.json()["priority"] as? Int == 3)

            let urgent = try await Self.post(service, Self.event("m2", credits: "60", investigation: "op-urgent"))
            #expect(urgent.status == 201, "\(urgent.text)")
            #expect(try await available(ledger) == credits("90"))
            let staged = try await ledger.read { try $0.stagedEventCount() }
            #expect(staged == 1, "refused events are not staged")
        }
    }

    @Test(arguments: StoreKind.available) func testForeignOrganisationAndBadBodies(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            try ServiceHTTPTests.expectProblem(
                try await Self.post(service, Self.event("x1", org: "gmp")), status: 403)
            let bad = [
                "[]", "{}", Self.event("x2", credits: "0"), Self.event("x3", credits: #""-5""#),
                Self.event("x4", credits: "1.0000001"), Self.event("x5", credits: "true"),
                Self.event("x6", occurredAt: "2026-11-20T10:00:00"), Self.event("", credits: "1"),
            ]
            for body in bad {
                let answer = try await Self.post(service, body)
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["detail"] is String, "\(body)")
            }
            #expect(try await available(ledger) == credits("150"))
        }
    }

    /// Goal (issue 15, D8): bytes that batch ingest refuses as `invalidUTF8` (or `nulByte`) are
    /// refused live with the same rule, never recorded with U+FFFD in their place.
    @Test(arguments: StoreKind.available) func testInvalidUTF8IsRefusedAsInBatch(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            for (byte, rule) in [(UInt8(0xFF), "invalidUTF8"), (UInt8(0x00), "nulByte")] {
                var body = Array(Self.event("u-\(byte)").utf8)
                let pages = try #require(body.firstRange(of: Array("3}".utf8)))
                body.replaceSubrange(pages, with: Array("\"a".utf8) + [byte] + Array("b\"}".utf8))
                let answer = try await send(
                    "POST", service.url("v1/usage"),
                    headers: ["Authorization": "Bearer \(ServiceHTTPTests.metKey.key)", "Content-Type": "application/json"],
                    body: Data(body))
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["rule"] as? String == rule, "\(answer.text)")

                let file = directory.file("events-\(byte).jsonl")
                try Data(body + [0x0A]).write(to: URL(fileURLWithPath: file))
                let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
                #expect(summary.rejectedByReason == [rule: 1], "\(summary)")
            }
            #expect(try await available(ledger) == credits("150"))
            #expect(try await ledger.read { try $0.stagedEventCount() } == 0)
        }
    }

    @Test(arguments: StoreKind.available) func testLiveThenBatchIsADuplicateAndConfigurationIsChecked(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            #expect(try await Self.post(service, Self.event("b1", credits: "10")).status == 201)
            // The same event in a batch file, keys reordered and credits spelled differently.
            let line = #"{"credits":"10.0","occurred_at":"2026-11-20T11:00:00+01:00","operation":"ocr","#
                + #""team":"analysis","organisation_id":"met","event_id":"b1","attributes":{"pages":3}}"#
            let file = directory.file("events.jsonl")
            try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.duplicates == 1 && summary.staged == 0, "\(summary)")
            #expect(try await available(ledger) == credits("140"))

            let unknownTeam = Self.event("b2").replacingOccurrences(of: "analysis", with: "nobody")
            let answer = try await Self.post(service, unknownTeam)
            try ServiceHTTPTests.expectProblem(answer, status: 400)
            #expect(try answer.json()["rule"] as? String == "unknownTeam")
            let quantity = #"{"event_id":"b3","organisation_id":"met","team":"analysis","operation":"ocr","#
                + #""quantity":3,"unit":"page","occurred_at":"2026-11-20T10:00:00Z"}"#
            let priced = try await Self.post(service, quantity)
            #expect(priced.status == 201, "\(priced.text)")
        }
    }

    /// With operations configured, another operation is refused live and in batch by the same rule.
    @Test(arguments: StoreKind.available) func testAnUnconfiguredOperationIsRejectedAsInBatch(_ store: StoreKind) async throws {
        try await withUsageService(store, operations: ["ocr", "llm.completion"]) { service, ledger in
            let body = Self.event("o1").replacingOccurrences(of: #""ocr""#, with: #""telepathy""#)
            let answer = try await Self.post(service, body)
            try ServiceHTTPTests.expectProblem(answer, status: 400)
            #expect(try answer.json()["rule"] as? String == "unknownOperation")
            #expect(try answer.json()["detail"] as? String == #"operation: "telepathy" is not a configured operation"#)
            #expect(try await Self.post(service, Self.event("o2")).status == 201)

            let file = directory.file("operations.jsonl")
            try Data((body + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.rejectedByReason == ["unknownOperation": 1], "\(summary)")
            #expect(try await available(ledger) == credits("140"))
        }
    }

    static func quantityEvent(
        _ id: String, quantity: String, unit: String = "page", operation: String = "ocr",
        investigation: String? = nil
    ) -> String {
        let investigationField = investigation.map { #","investigation":"\#($0)""# } ?? ""
        return #"{"event_id":"\#(id)","organisation_id":"met","team":"analysis","operation":"\#(operation)","#
            + #""quantity":\#(quantity),"unit":"\#(unit)","occurred_at":"2026-11-20T10:00:00Z"\#(investigationField)}"#
    }

    /// Credits, quantity, unit and rate of a staged event, as stored.
    func stagedCharge(_ ledger: any LiveLedger, _ eventID: String) async throws -> [String] {
        try await ledger.read { reader in
            let row = try reader.sql.record(
                "SELECT credits, quantity, unit, rate FROM cost_events WHERE event_id = ?", [.text(eventID)])
            return row.map { row in ["\(row.int64(0))", row.text(1), row.text(2), "\(row.int64(3))"] } ?? []
        }
    }

    /// 1.5 pages at met's 0.333333 is 0.4999995, rounded half-even to 0.5 (its own card overrides the
    /// default 0.5); batch ingest prices the same record to the same credits and records the same rate.
    @Test(arguments: StoreKind.available) func testQuantityIsPricedByTheRateCardAsBatchDoes(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            let answer = try await Self.post(service, Self.quantityEvent("q1", quantity: #""1.5""#))
            #expect(answer.status == 201, "\(answer.text)")
            let deduction = try await ledger.read { try $0.transfer(idempotencyKey: "deduction:cost-event:q1") }
            #expect(deduction?.amount == credits("0.5"))
            #expect(try await available(ledger) == credits("149.5"))
            #expect(try await stagedCharge(ledger, "q1") == ["500000", "1.5", "page", "333333"])

            let file = directory.file("quantity.jsonl")
            try Data((Self.quantityEvent("q2", quantity: "1.5") + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.staged == 1, "\(summary)")
            #expect(try await stagedCharge(ledger, "q2") == ["500000", "1.5", "page", "333333"])

            // Seven pages: 2.333331 exactly; a retry is a duplicate and charges nothing more.
            #expect(try await Self.post(service, Self.quantityEvent("q3", quantity: "7")).status == 201)
            #expect(try await Self.post(service, Self.quantityEvent("q3", quantity: "7")).status == 200)
            #expect(try await available(ledger) == credits("147.166669"))
        }
    }

    /// An operation or unit without a rate is refused with batch ingest's rule, field and words.
    @Test(arguments: StoreKind.available) func testUnknownUnitOrOperationIsRejectedAsInBatch(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            for (body, detail) in [
                (Self.quantityEvent("n1", quantity: "3", unit: "word"),
                 "unit: no rate for operation ocr in unit word for met"),
                (Self.quantityEvent("n2", quantity: "3", operation: "translate"),
                 "unit: no rate for operation translate in unit page for met"),
            ] {
                let answer = try await Self.post(service, body)
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["rule"] as? String == "noRateCardEntry")
                #expect(try answer.json()["detail"] as? String == detail)
            }
            let file = directory.file("unpriced.jsonl")
            try Data((Self.quantityEvent("n3", quantity: "3", unit: "word") + "\n").utf8)
                .write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.rejected == 1 && summary.staged == 0, "\(summary)")
            #expect(try await available(ledger) == credits("150"))
        }
    }

    /// D9: usage dated before the organisation's plan start is refused live with batch staging's
    /// rule; the start instant itself is charged. `met` starts 2026-11-01 in Europe/London (00:00Z).
    @Test(arguments: StoreKind.available) func testUsageBeforeTheOrganisationStartedIsRefusedAsInBatch(_ store: StoreKind) async throws {
        try await withUsageService(store, metPlanStart: LocalDate.parse("2026-11-01")) { service, ledger in
            for (id, at) in [("old-1", "2001-01-01T00:00:00Z"), ("old-2", "2026-10-31T23:59:59.999Z")] {
                let answer = try await Self.post(service, Self.event(id, occurredAt: at))
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["rule"] as? String == "occurredBeforeOrganisationStart", "\(answer.text)")
            }
            #expect(try await available(ledger) == credits("150"))
            let atStart = try await Self.post(service, Self.event("start", occurredAt: "2026-11-01T00:00:00Z"))
            #expect(atStart.status == 201, "\(atStart.text)")
            #expect(try await available(ledger) == credits("140"))
        }
    }

    /// D9 without a plan start: `met` has none here, so its usage start is the issuer's `usage_earliest`
    /// (2026-11-01, London); live and batch refuse 2001 and the last millisecond before it alike, and
    /// accept the start instant.
    @Test(arguments: StoreKind.available) func testUsageBeforeTheIssuersEarliestIsRefusedLiveAndInBatchAlike(_ store: StoreKind) async throws {
        try await withUsageService(store, usageEarliest: LocalDate.parse("2026-11-01")) { service, ledger in
            let cases = [("e-1", "2001-01-01T00:00:00Z"), ("e-2", "2026-10-31T23:59:59.999Z"), ("e-3", "2026-11-01T00:00:00Z")]
            var live: [String] = []
            for (id, at) in cases {
                let answer = try await Self.post(service, Self.event(id, occurredAt: at))
                live.append(answer.status == 201 ? "accepted" : (try answer.json()["rule"] as? String ?? answer.text))
            }
            #expect(live == ["occurredBeforeOrganisationStart", "occurredBeforeOrganisationStart", "accepted"])
            let file = directory.file("earliest.jsonl")
            try Data(cases.map { Self.event("b" + $0.0, occurredAt: $0.1) }.joined(separator: "\n").appending("\n").utf8)
                .write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.staged == 1 && summary.rejectedByReason["occurredBeforeOrganisationStart"] == 2, "\(summary)")
        }
    }

    /// D4: an event above the per-event limit (`Credits.transferMax`) is refused live with batch
    /// ingest's rule, before the credit gate (400, not 402), stated or priced; batch refuses the same.
    @Test(arguments: StoreKind.available) func testCreditsAboveTheEventLimitAreRefusedAsInBatch(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            for body in [
                Self.event("big-1", credits: #""9223372036854.775807""#),
                Self.event("big-2", credits: "1000000000.000001"),
                Self.quantityEvent("big-3", quantity: "4000000000"),
            ] {
                let answer = try await Self.post(service, body)
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["rule"] as? String == "creditsAboveEventLimit", "\(answer.text)")
            }
            let file = directory.file("big.jsonl")
            try Data((Self.event("big-1", credits: #""9223372036854.775807""#) + "\n").utf8)
                .write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.rejected == 1 && summary.staged == 0, "\(summary)")
            #expect(try await available(ledger) == credits("150"))
        }
    }

    /// 50 credits are spendable without priority: 150 pages at 0.333333 (49.99995) pass, then 3 more
    /// pages (0.999999) do not, although the gate in front saw a positive balance; a P1 investigation may
    /// spend into the reserve.
    @Test(arguments: StoreKind.available) func testPricedAmountOverSpendableIs402(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            #expect(try await Self.post(service, Self.quantityEvent("s1", quantity: "150")).status == 201)
            let refused = try await Self.post(service, Self.quantityEvent("s2", quantity: "3"))
            try ServiceHTTPTests.expectProblem(refused, status: 402)
            #expect(try refused.json()["rule"] as? String == "reserve_floor")
            #expect(try await stagedCharge(ledger, "s2") == [])
            let urgent = try await Self.post(
                service, Self.quantityEvent("s3", quantity: "3", investigation: "op-urgent"))
            #expect(urgent.status == 201, "\(urgent.text)")
            #expect(try await available(ledger) == credits("99.000051"))
        }
    }

    @Test(arguments: StoreKind.available) func testParallelSpendsNeverPassTheFloor(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            // 50 credits are spendable without priority; twelve parallel spends of 10 each.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<12 {
                    group.addTask { try await Self.post(service, Self.event("p\(index)")).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 5)
            #expect(statuses.filter { $0 == 402 }.count == 7)
            #expect(try await available(ledger) == credits("100"))
            let report = try await verification(of: ledger)
            #expect(report.passed)
        }
    }

    /// Sixty spends of one credit race for fifty spendable credits; the group commit decides each inside
    /// the transaction, in order, so exactly fifty pass, and every 201 is in the ledger once.
    @Test(arguments: StoreKind.available) func testGroupCommittedSpendsAreExactAndDurable(_ store: StoreKind) async throws {
        try await withUsageService(store) { service, ledger in
            let answers = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for index in 0..<60 {
                    group.addTask { ("r\(index)", try await Self.post(service, Self.event("r\(index)", credits: "1")).status) }
                }
                return try await group.reduce(into: [(String, Int)]()) { $0.append($1) }
            }
            let recorded = answers.filter { $0.1 == 201 }.map(\.0)
            #expect(recorded.count == 50)
            #expect(answers.filter { $0.1 == 402 }.count == 10)
            #expect(try await available(ledger) == credits("100"))
            let charged = try await ledger.read { reader in
                try recorded.filter { try reader.transfer(idempotencyKey: IdempotencyKey.deduction(costEventID: $0)) != nil }
            }
            #expect(charged.count == 50)
            #expect(try await ledger.read { try $0.stagedEventCount() } == 50)
            #expect(try await verification(of: ledger).passed)
        }
    }
}
