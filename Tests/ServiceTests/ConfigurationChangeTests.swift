import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// The audit trail of live configuration changes (issue 6): `setReservation` and
/// `setLowBalanceThresholds` each write one append-only row in their own transaction, naming the caller's
/// key, the time and the old and new values; a retried mutation writes nothing more; the trail is read
/// through `organisation(id) { configurationChanges }` under the same isolation rule as the rest. Each test
/// runs on a SQLite file and, when the tests have a server, on PostgreSQL (issue 17: the same answers).
@Suite struct ConfigurationChangeTests {
    let directory = TemporaryDirectory("service-audit")

    struct World {
        let service: ServiceHTTPTests.Harness
        let store: StoreKind
        let ledger: any LiveLedger
        let clock: TestClock
        let met: String
        let gmp: String
        let admin: String

        func graphQL(_ text: String, key: String) async throws -> HTTPAnswer {
            try await service.graphQL(LedgerBackedTests.query(text), key: key)
        }

        func rows() async throws -> Int {
            try await ledger.read { Int(try $0.sql.integer("SELECT count(*) FROM configuration_changes") ?? -1) }
        }
    }

    /// `met` with a reservation `p1-floor` of 100 for P1; `gmp` with none. The clock is fixed.
    func withWorld(_ store: StoreKind, _ body: (World) async throws -> Void) async throws {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        let clock = TestClock()
        let configuration = SampleWorld.configuration([
            SampleWorld.organisation("met", reservations: [reservation]), SampleWorld.organisation("gmp"),
        ])
        try await withLiveLedger(store, in: directory, configuration: configuration, clock: clock.provider) { ledger in
            let met = try await LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "test")
            let gmp = try await LedgerAPIKeyStore.issue(in: ledger, organisationID: "gmp", label: "test")
            let admin = try await LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "admin")
            try await LedgerBackedTests.serve(ledger, name: "audit-service") { service in
                try await body(World(
                    service: service, store: store, ledger: ledger, clock: clock, met: met, gmp: gmp, admin: admin))
            }
        }
    }

    static func keyID(_ key: String) -> String { APIKey.hash(presented: key)!.id }

    static let changes = #"{ organisation(organisationId: "met") { configurationChanges(first: 10) { edges { node { "#
        + "actor subject reservationId oldValue { credits maxPriority lowBalanceCredits lowBalancePercent "
        + "runwayDays } newValue { credits maxPriority lowBalanceCredits lowBalancePercent runwayDays } } } } } }"

    static let reserve = #"mutation { setReservation(input: {organisationId: "met", reservationId: "p1-floor", "#
        + #"credits: "120", maxPriority: 2, idempotencyKey: "r1"}) { organisation { id } userErrors { code field message } } }"#

    static let thresholds = #"mutation { setLowBalanceThresholds(input: {organisationId: "met", "#
        + #"lowBalanceCredits: "25", runwayDays: 7, idempotencyKey: "t1"}) { organisation { id } } }"#

    @Test(arguments: StoreKind.available) func testMutationsAreAuditedWithKeyAndOldAndNewValues(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            world.clock.set("2026-11-24T12:34:56Z")
            #expect(try await world.graphQL(Self.reserve, key: world.admin).text.contains(#""organisation":{"id":"met"}"#))
            #expect(try await world.graphQL(Self.thresholds, key: world.admin).text.contains(#""organisation":{"id":"met"}"#))
            let actor = "key:\(Self.keyID(world.admin))"
            let trail = try await world.graphQL(Self.changes, key: world.met)
            #expect(trail.text == #"{"data":{"organisation":{"configurationChanges":{"edges":["#
                + #"{"node":{"actor":"\#(actor)","subject":"THRESHOLDS","reservationId":null,"#
                + #""oldValue":{"credits":null,"maxPriority":null,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null},"#
                + #""newValue":{"credits":null,"maxPriority":null,"lowBalanceCredits":"25","#
                + #""lowBalancePercent":null,"runwayDays":7}}},"#
                + #"{"node":{"actor":"\#(actor)","subject":"RESERVATION","reservationId":"p1-floor","#
                + #""oldValue":{"credits":"100","maxPriority":1,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null},"#
                + #""newValue":{"credits":"120","maxPriority":2,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null}}}]}}}}"#, "\(trail.text)")

            // The row's time is the transaction's `now`, its key the mutation's idempotency key.
            let stored = try await world.ledger.read { try $0.configurationChange(idempotencyKey: "r1") }
            #expect(stored?.changedAt == instant("2026-11-24T12:34:56Z"))
            #expect(stored?.organisationID == "met")

            // Removing a reservation records it with no new value.
            let remove = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"0\"")
                .replacingOccurrences(of: "\"r1\"", with: "\"r2\"")
            #expect(try await world.graphQL(remove, key: world.admin).text.contains(#""organisation":{"id":"met"}"#))
            let removed = try await world.ledger.read { try $0.configurationChange(idempotencyKey: "r2") }
            #expect(removed?.oldValue == .reservation(credits: credits("120"), maxPriority: .p2))
            #expect(removed?.newValue == nil)
        }
    }

    /// A connection, newest first: `after` the `endCursor` of one page gives the next, until
    /// `hasNextPage` is false; cursors are opaque, and an id or another connection's cursor is refused.
    @Test(arguments: StoreKind.available) func testTheTrailPagesWithAfter(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            for (index, credits) in ["110", "120", "130"].enumerated() {
                let change = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"\(credits)\"")
                    .replacingOccurrences(of: "\"r1\"", with: "\"r\(index)\"")
                #expect(try await world.graphQL(change, key: world.admin).text.contains(#""organisation":{"id":"met"}"#))
            }
            struct Page {
                var credits: [String] = []
                var cursors: [String] = []
                var pageInfo: [String: Any] = [:]
            }
            func page(_ arguments: String) async throws -> Page {
                let answer = try await world.graphQL(
                    #"{ organisation(organisationId: "met") { configurationChanges(\#(arguments)) { "#
                        + "edges { cursor node { id newValue { credits } } } "
                        + "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }",
                    key: world.met)
                let data = try answer.json()["data"] as? [String: Any]
                let connection = (data?["organisation"] as? [String: Any])?["configurationChanges"] as? [String: Any]
                let edges = connection?["edges"] as? [[String: Any]] ?? []
                return Page(
                    credits: edges.map {
                        (($0["node"] as? [String: Any])?["newValue"] as? [String: Any])?["credits"] as? String ?? ""
                    },
                    cursors: edges.map { $0["cursor"] as? String ?? "" },
                    pageInfo: connection?["pageInfo"] as? [String: Any] ?? [:])
            }
            let first = try await page("first: 2")
            #expect(first.credits == ["130", "120"])
            #expect(first.pageInfo["hasNextPage"] as? Bool == true && first.pageInfo["hasPreviousPage"] as? Bool == false)
            #expect(first.pageInfo["startCursor"] as? String == first.cursors.first)
            let endCursor = try #require(first.pageInfo["endCursor"] as? String)
            #expect(endCursor == first.cursors.last)
            let second = try await page(#"first: 2, after: "\#(endCursor)""#)
            #expect(second.credits == ["110"])
            #expect(second.pageInfo["hasNextPage"] as? Bool == false && second.pageInfo["hasPreviousPage"] as? Bool == true)
            let past = try await page(#"first: 2, after: "\#(second.cursors[0])""#)
            #expect(past.credits.isEmpty && past.pageInfo["endCursor"] is NSNull)

            for bad in ["t1", "0", "3", "-3", "", PageCursor.transaction.encode(3)] {
                let answer = try await world.graphQL(
                    #"{ organisation(organisationId: "met") { configurationChanges(after: "\#(bad)") { edges { cursor } } } }"#,
                    key: world.met)
                #expect(answer.text.contains("after is not a cursor of this list"), "\(bad): \(answer.text)")
                #expect(answer.text.contains(#""code":"BAD_USER_INPUT""#), "\(bad): \(answer.text)")
            }
        }
    }

    @Test(arguments: StoreKind.available) func testReplayedMutationWritesNoSecondRow(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            let first = try await world.graphQL(Self.reserve, key: world.admin)
            let firstThresholds = try await world.graphQL(Self.thresholds, key: world.admin)
            #expect(try await world.rows() == 2)
            #expect(try await world.graphQL(Self.reserve, key: world.admin).text == first.text)
            #expect(try await world.graphQL(Self.thresholds, key: world.admin).text == firstThresholds.text)
            #expect(try await world.rows() == 2)

            // The key reused for another change is refused, and changes nothing.
            let other = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"130\"")
            #expect(try await world.graphQL(other, key: world.admin).text
                .contains(#""userErrors":[{"code":"idempotencyKeyReusedWithDifferentContent","#
                    + #""field":["input","idempotencyKey"],"message":"idempotency key r1 was already used for another change"#))
            #expect(try await world.rows() == 2)
            let reserved = try await world.ledger.read { try $0.reservations(of: "met") }
            #expect(reserved.map(\.credits) == [credits("120")])
        }
    }

    @Test(arguments: StoreKind.available) func testAnotherOrganisationsKeyCannotReadTheTrail(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            _ = try await world.graphQL(Self.reserve, key: world.admin)
            let foreign = try await world.graphQL(Self.changes, key: world.gmp)
            #expect(foreign.text.contains("Organisation not found."), "\(foreign.text)")
            #expect(!foreign.text.contains("p1-floor"))
            let own = try await world.graphQL(
                Self.changes.replacingOccurrences(of: "\"met\"", with: "\"gmp\""), key: world.gmp)
            #expect(own.text == #"{"data":{"organisation":{"configurationChanges":{"edges":[]}}}}"#)
            for size in ["first: 0", "first: 101"] {
                let bad = try await world.graphQL(
                    Self.changes.replacingOccurrences(of: "first: 10", with: size), key: world.met)
                #expect(bad.text.contains("first must be between 1 and 100."), "\(bad.text)")
            }
        }
    }

    @Test(arguments: StoreKind.available) func testTriggersRefuseUpdateAndDelete(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            _ = try await world.graphQL(Self.reserve, key: world.admin)
            for sql in [
                "UPDATE configuration_changes SET actor = 'someone else'", "DELETE FROM configuration_changes",
            ] {
                await #expect(throws: (any Error).self) {
                    try await world.ledger.write(as: .tests) { tx in try tx.sql.execute(sql) }
                }
            }
            #expect(try await world.rows() == 1)

            // Verify notices the trail's triggers missing, as it does the transfers'.
            #expect(try await verification(of: world.ledger).passed)
            let drop = world.store == .sqlite ? "DROP TRIGGER configuration_changes_are_append_only_delete"
                : "DROP TRIGGER configuration_changes_are_append_only_delete ON configuration_changes"
            try await world.ledger.write(as: .tests) { tx in try tx.sql.execute(drop) }
            #expect(try await !verification(of: world.ledger).passed)
        }
    }

    @Test(arguments: StoreKind.available) func testInitWithChangedConfigurationIsRecorded(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            var met = SampleWorld.organisation(
                "met", reservations: [Reservation(id: "floor-2", credits: credits("40"), maxPriority: .p2)])
            met.thresholds = Thresholds(lowBalancePercent: 10)
            let configuration = SampleWorld.configuration([met, SampleWorld.organisation("gmp")])
            let digest = try ConfigurationCodec.digest(configuration)
            _ = try await world.ledger.write(as: .tests) { try $0.load(configuration) }
            let rows = try await world.ledger.read { try $0.configurationChanges(of: "met", limit: 10) }
            #expect(rows.map(\.actor) == Array(repeating: "config:\(digest.prefix(12))", count: 3))
            #expect(rows.map(\.reservationID) == [nil, "p1-floor", "floor-2"])
            #expect(rows[1].newValue == nil && rows[2].oldValue == nil)
            #expect(rows[0].newValue == .thresholds(Thresholds(lowBalancePercent: 10)))
            #expect(try await world.ledger.read { try $0.configurationChanges(of: "gmp", limit: 10) }.isEmpty)
        }
    }
}
