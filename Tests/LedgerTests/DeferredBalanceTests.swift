import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: postings defer the account totals and grants' `remaining` (`PostingState`), and nothing
/// sees the ledger without them: SQL later in the same transaction, a reader taken before the
/// posting, the commit, a dry run or a failed group-commit unit that rolls back (whose changes
/// must vanish, and only its own). Each test ends with `verify`, whose balancesDerivable and
/// grantRemainingDerivable checks fail if a deferred change was lost or written twice.
@Suite struct DeferredBalanceTests: FundedLedger {
    let directory = TemporaryDirectory("deferred-balances")

    struct UnitFailed: Error {}

    static let storedAvailable = "SELECT credits_posted - debits_posted FROM accounts WHERE id = 'org:met'"

    @Test func spends_areDeferredThenWrittenBeforeAnyOtherSQL() throws {
        let ledger = try funded()
        try ledger.write { tx in
            _ = try tx.spend(spend("a", "10"))
            _ = try tx.spend(spend("b", "5"))
            #expect(tx.postingState.hasDeferredChanges)
            // The rows are written, the balances not yet: the connection as is still shows 100.
            #expect(try Int64.fetchOne(tx.connection, sql: Self.storedAvailable) == 100_000_000)
            #expect(try Int64.fetchOne(tx.db, sql: Self.storedAvailable) == 85_000_000)
            #expect(!tx.postingState.hasDeferredChanges)
            _ = try tx.spend(spend("c", "1"))
            #expect(try tx.reader.balance(of: "met").available == credits("84"))
            #expect(try tx.reader.grants(of: "met").map(\.remaining) == [credits("84")])
            _ = try tx.spend(spend("d", "1")) // still deferred at the end: the commit must hold it
        }
        try expectVerified(ledger, available: "83")
    }

    @Test func aReaderTakenBeforeASpendSeesIt() throws {
        let ledger = try funded()
        try ledger.write { tx in
            let reader = tx.reader
            _ = try tx.spend(spend("a", "10"))
            #expect(try reader.balance(of: "met").available == credits("90"))
        }
        try expectVerified(ledger, available: "90")
    }

    @Test func dryRun_discardsWhatItDeferredAndKeepsWhatCameBefore() throws {
        let ledger = try funded()
        try ledger.write { tx in
            _ = try tx.spend(spend("before", "10")) // deferred when the dry run starts
            try tx.dryRun { dry in
                _ = try dry.spend(spend("dry-1", "20"))
                // Writes "before" and "dry-1" inside the savepoint, which then rolls them back.
                #expect(try dry.reader.balance(of: "met").available == credits("70"))
                _ = try dry.spend(spend("dry-2", "30")) // deferred when the savepoint rolls back
            }
            #expect(try tx.reader.balance(of: "met").available == credits("90"))
            _ = try tx.spend(spend("after", "5"))
        }
        #expect(try ledger.read { try $0.transfer(idempotencyKey: "dry-1") } == nil)
        try expectVerified(ledger, available: "85")
    }

    @Test func writeEach_aFailedUnitTakesItsOwnDeferredChangesOnly() throws {
        let ledger = try funded()
        // Different amounts, so a lost change and a kept one cannot cancel out.
        let amounts = ["u1": "10", "u2": "20", "u3": "30", "u4": "5"]
        let outcomes = try ledger.writeEach(["u1", "u2", "u3", "u4"]) { tx, unit in
            let posting = try tx.spend(spend(unit, amounts[unit]!))
            if unit == "u2" {
                // Writes u1's and u2's changes inside u2's savepoint; its rollback takes both back,
                // and u1's must be deferred again.
                #expect(try tx.reader.balance(of: "met").available == credits("70"))
                throw UnitFailed()
            }
            if unit == "u4" { throw UnitFailed() } // fails with its change still deferred
            return posting.transfer.amount
        }
        #expect((try? outcomes[0].get()) == credits("10"))
        #expect(throws: UnitFailed.self) { try outcomes[1].get() }
        #expect((try? outcomes[2].get()) == credits("30"))
        #expect(throws: UnitFailed.self) { try outcomes[3].get() }
        try expectVerified(ledger, available: "60")
    }

    @Test func writeEach_aUnitRefusedByTheSchemaLeavesTheOthersBalances() throws {
        let ledger = try funded()
        let outcomes = try ledger.writeEach(["u1", "u2", "u3"]) { tx, unit in
            // u2 charges u1's cost event again under another key: the schema's unique index refuses it.
            try tx.spend(spend(unit, "10", costEvent: unit == "u2" ? "u1" : unit)).status
        }
        #expect((try? outcomes[0].get()) == .posted)
        #expect(throws: StorageError.self) { try outcomes[1].get() }
        #expect((try? outcomes[2].get()) == .posted)
        try expectVerified(ledger, available: "80")
    }

    /// The live usage route's group commit: configuration lookups and staging before each spend
    /// leave the earlier units' changes deferred, so the group writes its balances once.
    @Test func writeEach_configurationLookupsAndStagingLeaveChangesDeferred() throws {
        let ledger = try funded()
        let outcomes = try ledger.writeEach(["u1", "u2", "u3"]) { tx, unit in
            #expect(try tx.reader.organisationExists("met"))
            _ = try tx.reader.investigationPriority(organisationID: "met", investigationID: "none")
            _ = try tx.reader.rate(organisationID: "met", operation: "ocr", unit: "page")
            #expect(try tx.reader.acceptsOperation("ocr"))
            _ = try tx.stage([StagedCostEvent(
                eventID: unit, contentSHA256: .sha256(of: Array("a".utf8)), organisationID: "met",
                team: "analysis", investigation: nil, operation: "ocr", credits: credits("10"),
                occurredAt: instant("2026-11-02T10:00:00Z"), sourceFile: "live", sourceLine: 1)])
            #expect(tx.postingState.hasDeferredChanges == (unit != "u1"), "earlier units' spends still deferred")
            return try tx.spend(spend(unit, "10")).status
        }
        #expect(outcomes.compactMap { try? $0.get() } == [.posted, .posted, .posted])
        try expectVerified(ledger, available: "70")
    }
}
