import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// The audit trail of live configuration changes (issue 6): `setReservation` and
/// `setLowBalanceThresholds` each write one append-only row in their own transaction, naming the caller's
/// key, the time and the old and new values; a retried mutation writes nothing more; the trail is read
/// through `organisation(id) { configurationChanges }` under the same isolation rule as the rest.
@Suite struct ConfigurationChangeTests {
    let directory = TemporaryDirectory("service-audit")

    struct World {
        let service: ServiceHTTPTests.Harness
        let ledger: LedgerDatabase
        let clock: TestClock
        let met: String
        let gmp: String
        let admin: String

        func graphQL(_ text: String, key: String) async throws -> HTTPAnswer {
            try await service.graphQL(LedgerBackedTests.query(text), key: key)
        }

        func rows() async throws -> Int {
            try await ledger.read { try Int.fetchOne($0.db, sql: "SELECT count(*) FROM configuration_changes") ?? -1 }
        }
    }

    /// `met` with a reservation `p1-floor` of 100 for P1; `gmp` with none. The clock is fixed.
    func withWorld(_ body: (World) async throws -> Void) async throws {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        let clock = TestClock()
        let ledger = try SampleWorld.ledger(
            in: directory,
            organisations: [
                SampleWorld.organisation("met", reservations: [reservation]), SampleWorld.organisation("gmp"),
            ], clock: clock)
        let met = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "test")
        let gmp = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "gmp", label: "test")
        let admin = try LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "admin")
        try await LedgerBackedTests.serve(ledger, name: "audit-service") { service in
            try await body(World(service: service, ledger: ledger, clock: clock, met: met, gmp: gmp, admin: admin))
        }
    }

    static func keyID(_ key: String) -> String { APIKey.hash(presented: key)!.id }

    static let changes = #"{ organisation(organisationId: "met") { configurationChanges(first: 10) { "#
        + "actor subject reservationId oldValue { credits maxPriority lowBalanceCredits lowBalancePercent "
        + "runwayDays } newValue { credits maxPriority lowBalanceCredits lowBalancePercent runwayDays } } } }"

    static let reserve = #"mutation { setReservation(organisationId: "met", reservationId: "p1-floor", "#
        + #"credits: "120", maxPriority: 2, idempotencyKey: "r1") { id } }"#

    static let thresholds = #"mutation { setLowBalanceThresholds(organisationId: "met", "#
        + #"lowBalanceCredits: "25", runwayDays: 7, idempotencyKey: "t1") { id } }"#

    @Test func testMutationsAreAuditedWithKeyAndOldAndNewValues() async throws {
        try await withWorld { world in
            world.clock.set("2026-11-24T12:34:56Z")
            #expect(try await world.graphQL(Self.reserve, key: world.admin).text.contains(#""id":"met""#))
            #expect(try await world.graphQL(Self.thresholds, key: world.admin).text.contains(#""id":"met""#))
            let actor = "key:\(Self.keyID(world.admin))"
            let trail = try await world.graphQL(Self.changes, key: world.met)
            #expect(trail.text == #"{"data":{"organisation":{"configurationChanges":["#
                + #"{"actor":"\#(actor)","subject":"THRESHOLDS","reservationId":null,"#
                + #""oldValue":{"credits":null,"maxPriority":null,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null},"#
                + #""newValue":{"credits":null,"maxPriority":null,"lowBalanceCredits":"25","#
                + #""lowBalancePercent":null,"runwayDays":7}},"#
                + #"{"actor":"\#(actor)","subject":"RESERVATION","reservationId":"p1-floor","#
                + #""oldValue":{"credits":"100","maxPriority":1,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null},"#
                + #""newValue":{"credits":"120","maxPriority":2,"lowBalanceCredits":null,"#
                + #""lowBalancePercent":null,"runwayDays":null}}]}}}"#, "\(trail.text)")

            // The row's time is the transaction's `now`, its key the mutation's idempotency key.
            let stored = try await world.ledger.read { try $0.configurationChange(idempotencyKey: "r1") }
            #expect(stored?.changedAt == instant("2026-11-24T12:34:56Z"))
            #expect(stored?.organisationID == "met")

            // Removing a reservation records it with no new value.
            let remove = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"0\"")
                .replacingOccurrences(of: "\"r1\"", with: "\"r2\"")
            #expect(try await world.graphQL(remove, key: world.admin).text.contains(#""id":"met""#))
            let removed = try await world.ledger.read { try $0.configurationChange(idempotencyKey: "r2") }
            #expect(removed?.oldValue == .reservation(credits: credits("120"), maxPriority: .p2))
            #expect(removed?.newValue == nil)
        }
    }

    /// Pages newest first: `after` the last id of one page gives the next, until a page comes back short.
    @Test func testTheTrailPagesWithAfter() async throws {
        try await withWorld { world in
            for (index, credits) in ["110", "120", "130"].enumerated() {
                let change = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"\(credits)\"")
                    .replacingOccurrences(of: "\"r1\"", with: "\"r\(index)\"")
                #expect(try await world.graphQL(change, key: world.admin).text.contains(#""id":"met""#))
            }
            func page(_ arguments: String) async throws -> [(id: String, credits: String)] {
                let answer = try await world.graphQL(
                    #"{ organisation(organisationId: "met") { configurationChanges(\#(arguments)) { id newValue { credits } } } }"#,
                    key: world.met)
                let data = try answer.json()["data"] as? [String: Any]
                let changes = (data?["organisation"] as? [String: Any])?["configurationChanges"] as? [[String: Any]]
                return (changes ?? []).map { change in
                    (change["id"] as? String ?? "", (change["newValue"] as? [String: Any])?["credits"] as? String ?? "")
                }
            }
            let first = try await page("first: 2")
            #expect(first.map(\.credits) == ["130", "120"])
            let second = try await page(#"first: 2, after: "\#(first[1].id)""#)
            #expect(second.map(\.credits) == ["110"])
            #expect(try await page(#"first: 2, after: "\#(second[0].id)""#).isEmpty)

            for bad in ["t1", "0", "-3", "01", ""] {
                let answer = try await world.graphQL(
                    #"{ organisation(organisationId: "met") { configurationChanges(after: "\#(bad)") { id } } }"#,
                    key: world.met)
                #expect(answer.text.contains("after must be the id of a configuration change."), "\(bad): \(answer.text)")
            }
        }
    }

    @Test func testReplayedMutationWritesNoSecondRow() async throws {
        try await withWorld { world in
            let first = try await world.graphQL(Self.reserve, key: world.admin)
            let firstThresholds = try await world.graphQL(Self.thresholds, key: world.admin)
            #expect(try await world.rows() == 2)
            #expect(try await world.graphQL(Self.reserve, key: world.admin).text == first.text)
            #expect(try await world.graphQL(Self.thresholds, key: world.admin).text == firstThresholds.text)
            #expect(try await world.rows() == 2)

            // The key reused for another change is refused, and changes nothing.
            let other = Self.reserve.replacingOccurrences(of: "\"120\"", with: "\"130\"")
            #expect(try await world.graphQL(other, key: world.admin).text
                .contains("idempotencyKey was already used for another change."))
            #expect(try await world.rows() == 2)
            let reserved = try await world.ledger.read { try $0.reservations(of: "met") }
            #expect(reserved.map(\.credits) == [credits("120")])
        }
    }

    @Test func testAnotherOrganisationsKeyCannotReadTheTrail() async throws {
        try await withWorld { world in
            _ = try await world.graphQL(Self.reserve, key: world.admin)
            let foreign = try await world.graphQL(Self.changes, key: world.gmp)
            #expect(foreign.text.contains("Organisation not found."), "\(foreign.text)")
            #expect(!foreign.text.contains("p1-floor"))
            let own = try await world.graphQL(
                Self.changes.replacingOccurrences(of: "\"met\"", with: "\"gmp\""), key: world.gmp)
            #expect(own.text == #"{"data":{"organisation":{"configurationChanges":[]}}}"#)
            let bad = try await world.graphQL(
                Self.changes.replacingOccurrences(of: "first: 10", with: "first: 0"), key: world.met)
            #expect(bad.text.contains("first must be 1 to 100."))
        }
    }

    @Test func testTriggersRefuseUpdateAndDelete() async throws {
        try await withWorld { world in
            _ = try await world.graphQL(Self.reserve, key: world.admin)
            for sql in [
                "UPDATE configuration_changes SET actor = 'someone else'", "DELETE FROM configuration_changes",
            ] {
                #expect(throws: (any Error).self) {
                    try world.ledger.write { tx in try tx.db.execute(sql: sql) }
                }
            }
            #expect(try await world.rows() == 1)

            // Verify notices the trail's triggers missing, as it does the transfers'.
            #expect(try await world.ledger.read { try $0.verify() }.passed)
            try await world.ledger.write { tx in
                try tx.db.execute(sql: "DROP TRIGGER configuration_changes_are_append_only_delete")
            }
            let passed = try await world.ledger.read { try $0.verify() }.passed
            #expect(!passed)
        }
    }

    @Test func testInitWithChangedConfigurationIsRecorded() async throws {
        try await withWorld { world in
            var met = SampleWorld.organisation(
                "met", reservations: [Reservation(id: "floor-2", credits: credits("40"), maxPriority: .p2)])
            met.thresholds = Thresholds(lowBalancePercent: 10)
            let configuration = SampleWorld.configuration([met, SampleWorld.organisation("gmp")])
            let digest = try ConfigurationCodec.digest(configuration)
            _ = try await world.ledger.write { try $0.load(configuration) }
            let rows = try await world.ledger.read { try $0.configurationChanges(of: "met", limit: 10) }
            #expect(rows.map(\.actor) == Array(repeating: "config:\(digest.prefix(12))", count: 3))
            #expect(rows.map(\.reservationID) == [nil, "p1-floor", "floor-2"])
            #expect(rows[1].newValue == nil && rows[2].oldValue == nil)
            #expect(rows[0].newValue == .thresholds(Thresholds(lowBalancePercent: 10)))
            #expect(try await world.ledger.read { try $0.configurationChanges(of: "gmp", limit: 10) }.isEmpty)
        }
    }
}
