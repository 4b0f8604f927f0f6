import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: an administrator can void what is left of one grant and move a grant's expiry, each exactly once
/// under their key, with a reason and their name recorded, and every `verify` invariant holds after; and
/// anyone can see which grants funded an outflow and which outflows drew on a grant.
@Suite struct GrantControlTests: FundedLedger {
    let directory = TemporaryDirectory("grant-controls")
    let admin = Actor.operator(name: "finance-lead")

    func fundGrantID(_ ledger: LedgerDatabase) throws -> Int64 {
        try #require(try ledger.read { try $0.transfer(idempotencyKey: "fund") }?.grantID)
    }

    @Test func void_takesBackWhatIsLeft_once_withItsReasonAndActor() throws {
        let ledger = try funded("100")
        _ = try ledger.write { try $0.spend(spend("s1", "30")) }
        let grantID = try fundGrantID(ledger)
        let void = try ledger.write(as: admin) { try $0.voidGrant(grantID: grantID, idempotencyKey: "v1", reason: "sold in error") }
        #expect(void.status == .posted)
        #expect(void.transfer.kind == .reversal && void.transfer.amount == Credits(70))
        #expect(void.transfer.actor == admin && void.transfer.references.memo == "sold in error")
        // Exactly once: the same key again is the same void, though nothing is left by now.
        let again = try ledger.write(as: .operator(name: "someone-else")) {
            try $0.voidGrant(grantID: grantID, idempotencyKey: "v1", reason: "sold in error")
        }
        #expect(again.status == .exists && again.transfer.id == void.transfer.id && again.transfer.actor == admin)
        // Another key finds nothing left; a reason is required; the key is not free for another grant.
        #expect(throws: GrantControlRejection.nothingLeftToVoid(grantID: grantID)) {
            try ledger.write(as: admin) { try $0.voidGrant(grantID: grantID, idempotencyKey: "v2", reason: "again") }
        }
        #expect(throws: AdminPostingRejection.reasonRequired) {
            try ledger.write(as: admin) { try $0.voidGrant(grantID: grantID, idempotencyKey: "v3", reason: "  ") }
        }
        #expect(throws: PostingRejection.self) {
            try ledger.write(as: admin) { try $0.voidGrant(grantID: grantID, idempotencyKey: "v1", reason: "other reason") }
        }
        try expectVerified(ledger, available: "0")
        // The void is one of the grant's draws, beside the spend.
        let draws = try ledger.read { try $0.draws(ofGrant: grantID) }
        #expect(draws.map(\.credits) == [Credits(30), Credits(70)])
        #expect(draws.map(\.cost.minorUnits).reduce(0, +) == 1000, "a fully drawn grant's draws cost its price")
    }

    @Test func moveExpiry_changesBurnDownFromThenOn_once_andNeverBeforeNow() throws {
        let clock = TestClock("2026-11-10T09:00:00Z")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")], clock: clock)
        let grant = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "met", source: .allocation, credits: Credits(100),
                effectiveAt: instant("2026-11-01T00:00:00Z"), expiresAt: instant("2026-11-30T00:00:00Z")))
        }
        let grantID = try #require(grant.transfer.grantID)
        let moved = try ledger.write(as: admin) {
            try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-12-31T00:00:00Z"), idempotencyKey: "m1", reason: "extension agreed")
        }
        #expect(moved.status == .posted)
        #expect(moved.move.from == instant("2026-11-30T00:00:00Z") && moved.move.to == instant("2026-12-31T00:00:00Z"))
        #expect(moved.move.actor == admin && moved.move.movedAt == instant("2026-11-10T09:00:00Z"))
        #expect(try ledger.read { try $0.grant(id: grantID) }?.expiresAt == instant("2026-12-31T00:00:00Z"))
        // Burn-down uses the new expiry: spendable on 5 December, which the old expiry would have refused.
        let spendDecember = SpendRequest(
            idempotencyKey: "dec", organisationID: "met", credits: Credits(10), effectiveAt: instant("2026-12-05T00:00:00Z"),
            priority: .p3, policy: .withinSpendable, references: TransferReferences(costEventID: "dec"))
        _ = try ledger.write { try $0.spend(spendDecember) }
        // Exactly once; another move under the same key is refused; never before now.
        let again = try ledger.write(as: admin) {
            try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-12-31T00:00:00Z"), idempotencyKey: "m1", reason: "extension agreed")
        }
        #expect(again.status == .exists && again.move.id == moved.move.id)
        #expect(throws: PostingRejection.self) {
            try ledger.write(as: admin) {
                try $0.moveGrantExpiry(grantID: grantID, to: nil, idempotencyKey: "m1", reason: "extension agreed")
            }
        }
        #expect(throws: GrantControlRejection.expiryBeforeNow(
            requested: instant("2026-11-09T00:00:00Z"), now: instant("2026-11-10T09:00:00Z"))) {
            try ledger.write(as: admin) {
                try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-11-09T00:00:00Z"), idempotencyKey: "m2", reason: "r")
            }
        }
        // Earlier (but not before now), then never.
        _ = try ledger.write(as: admin) {
            try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-11-20T00:00:00Z"), idempotencyKey: "m3", reason: "shortened")
        }
        _ = try ledger.write(as: admin) { try $0.moveGrantExpiry(grantID: grantID, to: nil, idempotencyKey: "m4", reason: "no expiry") }
        #expect(try ledger.read { try $0.grantExpiryMoves(ofGrant: grantID) }.map(\.to)
            == [instant("2026-12-31T00:00:00Z"), instant("2026-11-20T00:00:00Z"), nil])
        let report = try ledger.read { try $0.verify() }
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
    }

    @Test func verify_findsAnExpiryChangedWithoutAMove() throws {
        let clock = TestClock("2026-11-10T09:00:00Z")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")], clock: clock)
        let grant = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "met", source: .allocation, credits: Credits(100),
                effectiveAt: instant("2026-11-01T00:00:00Z"), expiresAt: instant("2026-11-30T00:00:00Z")))
        }
        let grantID = try #require(grant.transfer.grantID)
        _ = try ledger.write(as: admin) {
            try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-12-31T00:00:00Z"), idempotencyKey: "m1", reason: "agreed")
        }
        try ledger.write { tx in
            try tx.db.execute(sql: "UPDATE grants SET expires_at = expires_at + 86400000 WHERE id = ?", arguments: [grantID])
        }
        let check = try #require(try ledger.read { try $0.verify() }.checks.first { $0.name == "grantExpiryMatchesItsMoves" })
        #expect(!check.passed)
    }

    @Test func draws_showWhichGrantsFundedASpend() throws {
        let ledger = try funded("100")
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "met", source: .allocation, credits: Credits(20),
                effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        let spent = try ledger.write { try $0.spend(spend("s1", "50")) }
        let draws = try ledger.read { try $0.draws(ofTransfer: spent.transfer.id) }
        let allocationID = try #require(try ledger.read { try $0.transfer(idempotencyKey: "alloc") }?.grantID)
        // Allocations burn first (rank 20), then the top-up.
        #expect(draws.map(\.grantID) == [allocationID, try fundGrantID(ledger)])
        #expect(draws.map(\.credits) == [Credits(20), Credits(30)])
        #expect(try ledger.read { try $0.draws(ofGrant: allocationID) }.map(\.transferID) == [spent.transfer.id])
    }
}
