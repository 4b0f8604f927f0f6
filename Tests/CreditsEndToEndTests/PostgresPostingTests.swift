import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): posting runs on PostgreSQL through the same code as on SQLite (`LedgerTransaction` on a
/// `PostingSession`). The administrator's postings (`ledger allocate`, `top-up`, `adjust`, `void-grant`) give
/// the same answers, exit codes and refusals on both stores and leave one digest; and writers posting for one
/// organisation at once, each on its own connection, are serialised by the organisation's row lock: no lost
/// update of its balance, no credit spent twice, every transfer's `balance_after` one step of one sequence.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresPostingTests {
    let directory = TemporaryDirectory("pg-posting")

    @Test func adminPostings_onPostgres_answerAsOnSQLite_andKeepOneDigest() async throws {
        try await PostgresStoreTests.withBuiltLedgerOnBoth("admin.sqlite", in: directory) { sqlite, url, _ in
            func both(_ arguments: [String], exitCode: Int32) async throws -> [String: Any] {
                let environment = ["CREDITS_NOW": "2026-12-02T10:00:00Z"]
                let runs = try await onOwnThread {
                    [try CreditsBinary.run(arguments + ["--json", "--db", sqlite], environment: environment),
                     try CreditsBinary.run(arguments + ["--json", "--db", url], environment: environment)]
                }
                #expect(runs.map(\.exitCode) == [exitCode, exitCode], "\(arguments): \(runs[1].stderr)")
                let outputs = runs.map { PostgresInitAndReadTests.withoutTimingOrDatabase($0.stdout) }
                #expect(outputs[0] == outputs[1], "\(arguments)")
                #expect(runs[0].stderr == runs[1].stderr, "\(arguments)")
                return try runs[1].json()
            }
            let allocate = ["ledger", "allocate", "--org", "met-police", "--credits", "250", "--key", "goodwill-1",
                            "--expires", "2027-06-30", "--reason", "goodwill", "--actor", "alice"]
            let allocated = try await both(allocate, exitCode: 0)
            let transfer = try #require((allocated["result"] as? [String: Any])?["transfer"] as? [String: Any])
            let grant = try #require(transfer["grantID"] as? Int)
            #expect((allocated["result"] as? [String: Any])?["status"] as? String == "posted")
            let again = try await both(allocate, exitCode: 0)
            #expect((again["result"] as? [String: Any])?["status"] as? String == "exists")
            _ = try await both(["ledger", "top-up", "--org", "met-police", "--credits", "1000", "--price", "500",
                                "--order", "ord_bank_1", "--key", "bank-1", "--reason", "bank transfer", "--actor", "alice"],
                               exitCode: 0)
            _ = try await both(["ledger", "adjust", "--org", "met-police", "--credits=-75.5", "--key", "fix-1",
                                "--reason", "charged twice", "--actor", "bob"], exitCode: 0)
            // The same key for other content, an unknown organisation: refused alike, nothing posted.
            _ = try await both(["ledger", "adjust", "--org", "met-police", "--credits=-80", "--key", "fix-1",
                                "--reason", "charged twice", "--actor", "bob"], exitCode: 65)
            _ = try await both(["ledger", "allocate", "--org", "nobody", "--credits", "1", "--key", "x-1",
                                "--reason", "none"], exitCode: 65)
            _ = try await both(["ledger", "void-grant", "--grant", "\(grant)", "--key", "void-1", "--reason", "not owed",
                                "--actor", "carol"], exitCode: 0)
            _ = try await both(["ledger", "void-grant", "--grant", "\(grant)", "--key", "void-2", "--reason", "again",
                                "--actor", "carol"], exitCode: 65)
            let verified = try await both(["ledger", "verify"], exitCode: 0)
            #expect(((verified["result"] as? [String: Any])?["digest"] as? String)?.count == 64)
        }
    }

    @Test func concurrentWriters_onOneOrganisation_neitherLoseAnUpdateNorOverspend() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            let initialised = try await onOwnThread {
                try CreditsBinary.run(["init", "--config", "\(repositoryRoot)/fixtures/config", "--db", url],
                                      environment: ["CREDITS_NOW": "2026-11-01T06:00:00Z"])
            }
            #expect(initialised.exitCode == 0, "\(initialised.stderr)")
            let now = try Instant.parse("2026-11-02T09:00:00Z").get()
            // Opened, used and closed on threads of their own: the store waits for the server, which must never
            // hold a thread of Swift concurrency's pool (the suite's other tests need them). If the test fails
            // before the end, dropping its database closes the connection.
            let store = try await onOwnThread { try PostgresStore.open(at: location, clock: { now }) }
            let start = try await onOwnThread {
                try store.write(as: .operator(name: "test")) { tx in
                    _ = try tx.grant(GrantRequest(
                        idempotencyKey: "seed", organisationID: "met-police", source: .adjustment,
                        credits: Credits(microcredits: 100_000_000), effectiveAt: now))
                    return try tx.reader.balance(of: "met-police")
                }
            }
            let spendable = start.spendable(for: .p1)
            // Four writers, thirty one-credit spends each, all for one organisation: more than it can pay for.
            let writers = 4, spendsEach = 30
            let outcomes = Outcomes()
            try await onOwnThread {
                let done = DispatchGroup()
                for writer in 0..<writers {
                    done.enter()
                    Thread {
                        defer { done.leave() }
                        do {
                            let own = try PostgresStore.open(at: location, clock: { now })
                            defer { own.close() }
                            for spend in 0..<spendsEach {
                                do {
                                    _ = try own.write(as: .operator(name: "writer-\(writer)")) { tx in
                                        try tx.spend(SpendRequest(
                                            idempotencyKey: "spend-\(writer)-\(spend)", organisationID: "met-police",
                                            credits: Credits(microcredits: 1_000_000), effectiveAt: now, priority: .p1,
                                            policy: .withinSpendable,
                                            references: TransferReferences(team: "cyber-crime", investigation: "op-kestrel")))
                                    }
                                    outcomes.add(posted: true)
                                } catch let refusal as PostingRejection {
                                    guard case .exceedsSpendable = refusal else { throw refusal }
                                    outcomes.add(posted: false)
                                }
                            }
                        } catch {
                            outcomes.fail("\(error)")
                        }
                    }.start()
                }
                done.wait()
            }
            #expect(outcomes.failures.isEmpty, "\(outcomes.failures)")
            let posted = outcomes.posted
            #expect(posted + outcomes.refused == writers * spendsEach)
            #expect(Int64(posted) == spendable.microcredits / 1_000_000, "every credit spendable is spent, none twice")
            let end = try await onOwnThread {
                defer { store.close() }
                return try store.read { try $0.balance(of: "met-police") }
            }
            #expect(try start.available.subtracting(end.available) == Credits(microcredits: Int64(posted) * 1_000_000))
            // Each spend saw the one before it: the balances after them are one step apart, none repeated.
            let after = try await PostgresTestServer.strings(
                "SELECT balance_after::text FROM transfers WHERE idempotency_key LIKE 'spend-%' ORDER BY transfers.balance_after DESC",
                at: location).compactMap(Int64.init)
            #expect(after == (1...Int64(posted)).map { start.available.microcredits - $0 * 1_000_000 })
            let verified = try await onOwnThread { try CreditsBinary.run(["ledger", "verify", "--db", url]) }
            #expect(verified.exitCode == 0, "\(verified.stderr)")
        }
    }

    /// What the writers' threads report.
    private final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var posted = 0
        private(set) var refused = 0
        private(set) var failures: [String] = []

        func add(posted wasPosted: Bool) {
            lock.withLock { if wasPosted { posted += 1 } else { refused += 1 } }
        }

        func fail(_ failure: String) {
            lock.withLock { failures.append(failure) }
        }
    }
}
