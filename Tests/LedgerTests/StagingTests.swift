import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: staging decides staged, duplicate or conflict per record, across batches and reruns,
/// and order observations keep every distinct view once.
@Suite struct StagingTests {
    let directory = TemporaryDirectory("staging")

    func event(_ id: String, hash: String, line: Int = 1) -> StagedCostEvent {
        StagedCostEvent(
            eventID: id, contentSHA256: .sha256(of: Array(hash.utf8)), organisationID: "met", team: "analysis",
            investigation: "op-urgent", operation: "ocr", credits: credits("1.5"), occurredAt: instant("2026-11-02T10:00:00Z"),
            sourceFile: "events.jsonl", sourceLine: line)
    }

    @Test func stage_decidesStagedDuplicateOrConflict() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let first = try ledger.write { try $0.stage([event("e1", hash: "a"), event("e2", hash: "b"), event("e1", hash: "a", line: 3)]) }
        #expect(first == [.staged, .staged, .duplicate])
        let second = try ledger.write { try $0.stage([event("e1", hash: "a"), event("e2", hash: "c", line: 9)]) }
        #expect(second == [.duplicate, .conflict(existingSource: "events.jsonl", existingLine: 1)])
        #expect(try ledger.read { try $0.stagedEventCount() } == 2)
    }

    @Test func withPageCache_limitsTheCacheForTheBodyOnly_evenWhenItThrows() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        struct Failure: Error {}
        try ledger.write { tx in
            let before = try Int.fetchOne(tx.db, sql: "PRAGMA cache_size")
            let inside = try tx.withPageCache(kibibytes: 123) { try Int.fetchOne(tx.db, sql: "PRAGMA cache_size") }
            #expect(inside == -123)
            #expect(try Int.fetchOne(tx.db, sql: "PRAGMA cache_size") == before)
            #expect(throws: Failure.self) { try tx.withPageCache(kibibytes: 7) { throw Failure() } }
            #expect(try Int.fetchOne(tx.db, sql: "PRAGMA cache_size") == before)
        }
    }

    @Test func observe_recordsEachDistinctViewOnce() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let pending = OrderObservation(
            orderType: .payment, orderID: "o1", state: .pending, amount: Money(minorUnits: 45000, currency: .gbp),
            merchantReference: "cpk_1", updatedAt: instant("2026-11-02T10:00:00Z"), source: "api",
            sourceFile: "a.json", sourceLine: 2)
        var completed = pending
        completed.state = .completed
        completed.updatedAt = instant("2026-11-02T10:05:00Z")
        var again = completed
        again.sourceFile = "b.json"
        #expect(try ledger.write { try $0.observe([pending, completed]) } == [true, true])
        #expect(try ledger.write { try $0.observe([again]) } == [false], "the same view in another file is a repeat")
        #expect(try ledger.read { try $0.observations(ofOrder: "o1").map(\.state) } == [.pending, .completed])
    }
}
