import Dispatch
import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: the group commit behind `POST /v1/usage` answers every request with its own outcome, only after
/// the commit, never loses or duplicates a unit under concurrency, and refuses (503) rather than queue
/// without bound.
@Suite struct GroupCommitQueueTests {
    let directory = TemporaryDirectory("group-commit")

    func ledger() throws -> LedgerDatabase {
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), durability: .live)
        _ = try ledger.write { try $0.load(SampleWorld.configuration([SampleWorld.organisation("met")])) }
        return ledger
    }

    static func event(_ id: String) -> StagedCostEvent {
        StagedCostEvent(
            eventID: id, contentSHA256: .sha256(of: Array("a".utf8)), organisationID: "met", team: "analysis",
            investigation: nil, operation: "ocr", credits: credits("1"), occurredAt: instant("2026-11-02T10:00:00Z"),
            sourceFile: "live", sourceLine: 1)
    }

    struct Refused: Error {}

    @Test func commit_whenManyRequestsRace_eachGetsItsOwnOutcomeOnce() async throws {
        let ledger = try ledger()
        let queue = GroupCommitQueue<String, StagingOutcome>(ledger: ledger, label: "test.commit", groupUnitsMax: 16) {
            tx, id in
            if id.hasPrefix("bad") { throw Refused() }
            return try tx.stage([Self.event(id)]).first!
        }
        // 200 distinct events, 20 sent twice (the second is a duplicate), 10 units that fail.
        let ids = (0..<200).map { "e\($0)" } + (0..<20).map { "e\($0)" } + (0..<10).map { "bad\($0)" }
        let outcomes = await withTaskGroup(of: (String, Result<StagingOutcome, any Error>).self) { group in
            for id in ids {
                group.addTask {
                    do { return (id, .success(try await queue.commit(id, as: .tests))) } catch { return (id, .failure(error)) }
                }
            }
            return await group.reduce(into: [(String, Result<StagingOutcome, any Error>)]()) { $0.append($1) }
        }
        #expect(outcomes.count == ids.count)
        let staged = outcomes.filter { (try? $0.1.get()) == .staged }.map { $0.0 }
        let duplicates = outcomes.filter { (try? $0.1.get()) == .duplicate }
        let failures = outcomes.filter { (try? $0.1.get()) == nil }
        #expect(Set(staged).count == 200 && staged.count == 200)
        #expect(duplicates.count == 20)
        #expect(failures.count == 10 && failures.allSatisfy { $0.0.hasPrefix("bad") })
        // Every request was answered after its commit: what was answered staged is in the file.
        #expect(try ledger.readBlocking { try $0.stagedEventCount() } == 200)
    }

    @Test func commit_whenTheQueueIsFull_refusesWithLedgerBusy() async throws {
        let ledger = try ledger()
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let queue = GroupCommitQueue<String, StagingOutcome>(
            ledger: ledger, label: "test.full", groupUnitsMax: 1, waitingUnitsMax: 1
        ) { tx, id in
            if id == "first" {
                entered.signal()
                release.wait()
            }
            return try tx.stage([Self.event(id)]).first!
        }
        async let first = queue.commit("first", as: .tests)
        await Task.detached { entered.wait() }.value  // the writer is now inside "first"
        async let second = queue.commit("second", as: .tests)  // waits: the queue holds one
        for _ in 0..<10_000 where queue.waitingUnits < 1 { await Task.yield() }
        #expect(queue.waitingUnits == 1)
        await #expect(throws: ProblemDetails.ledgerBusy) { try await queue.commit("third", as: .tests) }
        release.signal()
        #expect(try await first == .staged)
        #expect(try await second == .staged)
    }
}
