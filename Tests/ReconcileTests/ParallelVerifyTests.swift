import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal: `ledger verify` on two connections at once (`LedgerDatabase.verify`) reports exactly what
/// the one-connection verify reports, on a sound and on a tampered ledger; both halves read one
/// snapshot, so a commit made while they run (even one that breaks an invariant) is not half seen;
/// and with the write lock held elsewhere it falls back to one connection instead of waiting.
@Suite struct ParallelVerifyTests {
    /// A ledger with every kind of transfer, from a few random weeks of nights.
    static func populatedWorld() throws -> ReconcileWorld {
        var random = SeededRandom(label: "ParallelVerifyTests")
        let world = try ReconcileWorld(organisations: [PlanSimulationTests.organisation()],
                                       packages: [ReconcileWorld.pack, PlanSimulationTests.shortPack])
        var night = PlanSimulationTests.Night(world: world)
        for week in 0..<4 {
            let start = instant("2026-11-01T00:00:00Z").adding(days: 7 * week)
            try night.fill(from: start, using: &random)
            _ = try Reconciler.reconcileAndApply(world.ledger, options: .init(asOf: start.adding(days: 7)))
        }
        return world
    }

    static func oneConnection(_ world: ReconcileWorld) throws -> VerificationReport {
        try world.ledger.read { try $0.verify() }
    }

    @Test func reportsWhatOneConnectionReports_soundOrTampered() throws {
        let world = try Self.populatedWorld()
        let sound = try world.ledger.verify()
        #expect(sound.integrity == ["ok"])
        #expect(sound.report == (try Self.oneConnection(world)))
        #expect(sound.report?.passed == true && (sound.report?.transfers ?? 0) > 10)

        try world.ledger.write { tx in
            try tx.db.execute(sql: "UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = 'org:met'")
        }
        let tampered = try world.ledger.verify()
        #expect(tampered.report == (try Self.oneConnection(world)))
        #expect(tampered.report?.passed == false)
        #expect(tampered.report?.digest != sound.report?.digest)
    }

    @Test func aCommitWhileItRuns_isNotSeenByEitherHalf() throws {
        let world = try Self.populatedWorld()
        let before = try Self.oneConnection(world)
        let verification = try world.ledger.verify(afterPinningSnapshot: {
            // Breaks `balancesDerivable` and changes the digest: a half that saw it would say so.
            try world.ledger.write { tx in
                try tx.db.execute(sql: "UPDATE accounts SET debits_posted = debits_posted + 7 WHERE id = 'org:met'")
            }
        })
        #expect(verification.report == before, "both halves read the snapshot pinned before the commit")
        let after = try Self.oneConnection(world)
        #expect(!after.passed && after.digest != before.digest, "the commit did happen")
    }

    @Test func withTheWriteLockHeldElsewhere_fallsBackToOneConnection() throws {
        let world = try Self.populatedWorld()
        let expected = try Self.oneConnection(world)
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: world.directory.file("ledger.sqlite"), configuration: configuration)
        try other.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
        defer { try? other.inDatabase { try $0.execute(sql: "ROLLBACK") } }
        let verification = try world.ledger.verify()
        #expect(verification.integrity == ["ok"] && verification.report == expected)
    }
}
