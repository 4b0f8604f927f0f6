import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: the live service's point reads (`LedgerDatabase.pointRead`, on connections of their own)
/// answer exactly what the same queries answer inside a transaction, and always from the latest
/// commit: a connection reused for the next request must not keep an older snapshot, whoever
/// committed in between (this process or another one).
@Suite struct PointReadTests: FundedLedger {
    let directory = TemporaryDirectory("point-reads")

    @Test func balance_matchesTheTransactionalReadAndFollowsEveryCommit() throws {
        let ledger = try funded("100")
        let inTransaction = try ledger.read { try $0.balance(of: "met") }
        #expect(try ledger.pointRead { try $0.balance(of: "met") } == inTransaction)
        _ = try ledger.write { try $0.spend(spend("a", "30")) }
        #expect(try ledger.pointRead { try $0.balance(of: "met").available } == credits("70"))

        // Another process: its own connections, its own commit.
        let other = try LedgerDatabase.open(at: ledger.path)
        _ = try other.write { try $0.spend(spend("b", "20")) }
        #expect(try ledger.pointRead { try $0.balance(of: "met").available } == credits("50"))
        #expect(throws: PostingRejection.organisationNotFound("nope")) {
            try ledger.pointRead { try $0.balance(of: "nope") }
        }
    }

    @Test func gateView_seesReservationsRetriesAndPriorities() throws {
        let reservation = Reservation(id: "major-incidents", credits: credits("40"), maxPriority: .p1)
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("met", reservations: [reservation])])
        _ = try ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .topUp, credits: credits("100"),
                price: Money(minorUnits: 1000, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z")))
            _ = try tx.spend(spend("spent-once", "10"))
        }
        let now = instant("2026-11-20T00:00:00Z")
        let fresh = try ledger.pointRead {
            try $0.gateView(organisationID: "met", idempotencyKey: "never-posted", investigationID: nil, spendableAt: now, now: now)
        }
        let inTransaction = try ledger.read {
            try $0.gateView(organisationID: "met", idempotencyKey: "never-posted", investigationID: nil, spendableAt: now, now: now)
        }
        #expect(fresh == inTransaction)
        #expect(fresh.balance.available == credits("90"))
        #expect(fresh.balance.reservations == [reservation])
        #expect(fresh.balance.spendable(for: .p3) == credits("50"))
        #expect(!fresh.alreadyPosted)
        #expect(fresh.investigationPriority == nil)
        let retry = try ledger.pointRead {
            try $0.gateView(organisationID: "met", idempotencyKey: "spent-once", investigationID: "unknown", spendableAt: now, now: now)
        }
        #expect(retry.alreadyPosted)
        #expect(retry.investigationPriority == nil)
    }

    @Test func apiKeys_resolveUntilRevokedAndTheRevocationIsSeenAtOnce() throws {
        let ledger = try funded()
        let hash = String(repeating: "ab", count: 32)
        _ = try ledger.write { try $0.insertAPIKey(hash: hash, organisationID: "met", label: "laptop") }
        let record = try #require(try ledger.pointRead { try $0.activeAPIKey(hash: hash) })
        #expect(record.organisationID == "met")
        #expect(record.label == "laptop")
        #expect(try ledger.read { try $0.activeAPIKey(hash: hash) } == record)
        #expect(try ledger.write { try $0.revokeAPIKey(hash: hash) })
        #expect(try ledger.pointRead { try $0.activeAPIKey(hash: hash) } == nil)
    }

    /// Each point query finds its rows by keys: no table scan, no sort, however many organisations,
    /// accounts or keys the ledger holds.
    @Test func pointQueries_searchByKeysWithoutScansOrSorts() throws {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: (0..<20).map { SampleWorld.organisation("org-\($0)") })
        let queries: [(sql: String, arguments: StatementArguments)] = [
            (PointQueries.activeAPIKeySQL, [String(repeating: "0", count: 64)]),
            (PointQueries.balanceSQL, ["org-3", "org:org-3"]),
            (PointQueries.gateViewSQL, ["key", "investigation", "org-3", "org:org-3", 1, 1, "hold-key"]),
        ]
        for query in queries {
            let details = try ledger.read { reader in
                try Row.fetchAll(reader.db, sql: "EXPLAIN QUERY PLAN " + query.sql, arguments: query.arguments)
                    .map { $0["detail"] as String }
            }
            #expect(!details.isEmpty)
            #expect(!details.contains { $0.hasPrefix("SCAN") || $0.contains("TEMP B-TREE") }, "\(details)")
        }
    }

    @Test func concurrentReaders_eachGetAConnectionAndAllAgree() async throws {
        let ledger = try funded("100")
        let answers = try await withThrowingTaskGroup(of: Credits.self) { group in
            for _ in 0..<16 {
                group.addTask { try ledger.pointRead { try $0.balance(of: "met").available } }
            }
            return try await group.reduce(into: [Credits]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: credits("100"), count: 16))
    }
}
