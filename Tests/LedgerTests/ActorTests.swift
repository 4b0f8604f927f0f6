import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: every transfer names who made it (`Actor`), the schema refuses one that does not, and ledgers
/// from before the audit trail keep their transfers, their digest and a passing `verify`.
@Suite struct ActorTests: FundedLedger {
    let directory = TemporaryDirectory("actors")

    @Test(arguments: [
        Actor.apiKey(id: "3f2a9c0d1e2b4a5f"), .operator(name: "alice"), .pipeline(.apply, plan: 17),
        .pipeline(.ingest), .revolutWebhook, .unknownBeforeAudit,
    ])
    func storedText_readsBackAsTheSameActor(actor: Actor) throws {
        #expect(Actor(storedText: actor.storedText) == actor)
        let json = try JSONEncoder().encode([actor])
        #expect(try JSONDecoder().decode([Actor].self, from: json) == [actor])
    }

    @Test func storedText_namesTheKindOfActor() {
        #expect(Actor.apiKey(id: "3f2a").storedText == "key:3f2a")
        #expect(Actor.operator(name: "alice").storedText == "operator:alice")
        #expect(Actor.pipeline(.apply, plan: 17).storedText == "pipeline:apply:plan-17")
        #expect(Actor.pipeline(.reconcile).storedText == "pipeline:reconcile")
        #expect(Actor.revolutWebhook.storedText == "webhook:revolut")
        for text in ["", "key:", "operator:", "pipeline:lunch", "pipeline:apply:17", "someone"] {
            #expect(Actor(storedText: text) == nil, "\(text)")
        }
    }

    @Test func everyTransfer_recordsTheActorOfItsTransaction() throws {
        let ledger = try funded("100")
        let posted = try ledger.write(as: .apiKey(id: "3f2a9c0d1e2b4a5f")) { try $0.spend(spend("s1", "10")) }
        #expect(posted.transfer.actor == .apiKey(id: "3f2a9c0d1e2b4a5f"))
        #expect(try ledger.read { try $0.transfer(id: posted.transfer.id) }?.actor == .apiKey(id: "3f2a9c0d1e2b4a5f"))
        // The funding top-up was posted by the tests' operator.
        #expect(try ledger.read { try $0.transfer(idempotencyKey: "fund") }?.actor == .tests)
        // A retry by someone else is the same posting: the first actor stands.
        let retry = try ledger.write(as: .operator(name: "bob")) { try $0.spend(spend("s1", "10")) }
        #expect(retry.status == .exists)
        #expect(retry.transfer.actor == .apiKey(id: "3f2a9c0d1e2b4a5f"))
        try expectVerified(ledger, available: "90")
    }

    @Test func groupCommit_recordsEachUnitsOwnActor() throws {
        let ledger = try funded("100")
        let units = [("s1", Actor.apiKey(id: "aaaa")), ("s2", .apiKey(id: "bbbb")), ("s3", .operator(name: "carol"))]
        let outcomes = try ledger.writeEach(units, actor: { $0.1 }) { tx, unit in try tx.spend(spend(unit.0, "1")) }
        #expect(try outcomes.map { try $0.get().transfer.actor } == units.map(\.1))
    }

    @Test func aTransactionWithoutAnActorThatMayPost_postsNothing() throws {
        let ledger = try funded("100")
        #expect(throws: PostingRejection.actorRequired) {
            try ledger.write(as: .unknownBeforeAudit) { try $0.spend(spend("s1", "10")) }
        }
        #expect(throws: PostingRejection.actorRequired) {
            try ledger.write(as: .operator(name: "")) { try $0.spend(spend("s1", "10")) }
        }
        try expectVerified(ledger, available: "100")
    }

    /// The schema itself refuses a transfer without its actor, or with text no `Actor` writes, so a path
    /// that bypassed `insertTransfer` could not forget it either.
    @Test func theSchema_refusesATransferWithoutAnActor() throws {
        let ledger = try funded("100")
        for actor in [nil, "unknown (before audit)", "nobody", "key:"] as [String?] {
            #expect(throws: StorageError.self, "\(actor ?? "no actor")") {
                try ledger.write { tx in
                    let columns = actor == nil ? "" : ", actor"
                    let value = actor.map { ", '\($0)'" } ?? ""
                    try tx.db.execute(sql: """
                        INSERT INTO transfers (idempotency_key, content_hash, kind, debit_account, credit_account, amount,
                            organisation_id, money_minor, currency, effective_at, recorded_at\(columns))
                        VALUES ('raw', '\(String(repeating: "0", count: 64))', 'adjustment', 'system:adjustment',
                            'org:met', 1, 'met', 0, 'GBP', 0, 0\(value))
                        """)
                }
            }
        }
        let report = try ledger.read { try $0.verify() }
        #expect(report.checks.first { $0.name == "transfersNameTheirActor" }?.passed == true)
    }

    /// A ledger written before actors were recorded: its transfers read as `unknown (before audit)`, its
    /// digest is unchanged by the migration, `verify` passes, and new transfers name their actor.
    @Test func migration_keepsEarlierTransfersAndTheirDigest() throws {
        let ledger = try funded("100")
        _ = try ledger.write { try $0.spend(spend("s1", "25")) }
        let digest = try ledger.read { try $0.digest() }
        let path = ledger.path
        // Back to the previous version's schema: no actor column, no trigger, migration not applied.
        let previous = try DatabaseQueue(path: path)
        try previous.write { db in
            try db.execute(sql: """
                DROP TRIGGER transfers_name_their_actor;
                ALTER TABLE transfers DROP COLUMN actor;
                DELETE FROM grdb_migrations WHERE identifier = 'v4-transfer-actors';
                """)
        }
        try previous.close()

        let migrated = try LedgerDatabase.create(at: path)
        #expect(try migrated.read { try $0.digest() } == digest)
        let earlier = try migrated.read { reader in try ["fund", "s1"].map { try reader.transfer(idempotencyKey: $0) } }
        #expect(earlier.map { $0?.actor } == [.unknownBeforeAudit, .unknownBeforeAudit])
        let later = try migrated.write(as: .operator(name: "dave")) { try $0.spend(spend("s2", "5")) }
        #expect(later.transfer.actor == .operator(name: "dave"))
        try expectVerified(migrated, available: "70")
    }
}
