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

    /// The night's top-ups (`BatchPostingBook.postCompletedOrder`) are appended, not inserted one by one:
    /// nothing may see the ledger without them either. An overdraft they settle, a spend drawing on them,
    /// a reversal of one, a reader, a dry run and the commit all come after their rows are written.
    @Test func appendedTopUps_areWrittenBeforeAnythingReadsOrDrawsOnThem() throws {
        let ledger = try funded("10", overdraft: credits("50"))
        try ledger.write { tx in
            // 30 credits spent on 10: 20 owed in overdraft, which the first top-up settles.
            _ = try tx.spend(spend("over", "30", policy: .allowOverdraft(limit: credits("50"))))
            let book = try BatchPostingBook(tx)
            let order = { (id: String, amount: String) in
                CompletedOrder(
                    orderID: id, organisationID: "met", packageID: "pack", credits: credits(amount),
                    price: Money(minorUnits: 500, currency: .gbp), completedAt: instant("2026-11-03T00:00:00Z"),
                    expiresAt: nil)
            }
            _ = try book.postCompletedOrder(order("o1", "40"))
            _ = try book.postCompletedOrder(order("o2", "25"))
            // o1 was written when its settlement draws were; o2 is pending: the connection as it is lacks it.
            #expect(try Int.fetchOne(tx.connection, sql: "SELECT COUNT(*) FROM grants") == 2)
            #expect(tx.postingState.hasDeferredChanges)
            #expect(try tx.reader.grants(of: "met").map(\.remaining).filter(\.isPositive) == [credits("20"), credits("25")])
            #expect(try Int.fetchOne(tx.connection, sql: "SELECT COUNT(*) FROM grants") == 3)
            _ = try book.postCompletedOrder(order("o3", "5"))
            // A dry run starts with them written, and keeps them when it rolls back.
            try tx.dryRun { dry in _ = try dry.spend(spend("dry", "1")) }
            _ = try book.postCompletedOrder(order("o4", "7"))
            _ = try book.postReversal(
                ofGrantCreatedBy: IdempotencyKey.topUp(revolutOrderID: "o4"), credits: credits("7"),
                at: instant("2026-11-04T00:00:00Z"), idempotencyKey: "reversal:o4", references: TransferReferences())
            _ = try book.postCompletedOrder(order("o5", "3")) // still pending at the end: the commit must hold it
            try book.finish()
        }
        // 10 - 30 + 40 + 25 + 5 + 7 - 7 + 3.
        try expectVerified(ledger, available: "53")
        #expect(try ledger.read { try $0.topUp(forRevolutOrder: "o5") }?.amount == credits("3"))
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
            _ = try tx.reader.eventConfiguration(organisationID: "met", team: "analysis", investigation: "none", operation: "ocr")
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
