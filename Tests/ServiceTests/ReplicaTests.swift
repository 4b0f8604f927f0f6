import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: several replicas of the live service on one PostgreSQL database lose nothing and double nothing
/// (issue 17). Three services, each with its own ledger connections (`PostgresLiveLedger`), its own group
/// commit and its own HTTP server on loopback, as three `credits serve --db postgres://...` behind a load
/// balancer: the same signed webhook delivered to all three at once credits once; usage spread across them
/// for an organisation near zero spends exactly what there was, each event once.
@Suite(.enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct ReplicaTests {
    static let now = instant("2026-11-24T12:00:00Z")

    /// `met` with `granted` credits and no reservation, and the package a Revolut order buys.
    static func configuration() -> Configuration {
        var configuration = SampleWorld.configuration([SampleWorld.organisation("met")])
        configuration.packages = [
            CreditPackage(
                id: "pack_10k", name: "10,000 credits", credits: credits("10000"),
                prices: [Money(minorUnits: 45_000, currency: .gbp)], expiresAfterDays: 365),
        ]
        return configuration
    }

    /// Runs `body` with `count` replicas of the service on one new PostgreSQL ledger holding `configuration()`
    /// and `granted` credits for `met`, and the ledgers they run on.
    func withReplicas(
        _ count: Int, granted: Credits, revolut: RevolutClient?,
        _ body: ([ServiceHTTPTests.Harness], [PostgresLiveLedger]) async throws -> Void
    ) async throws {
        try await PostgresTestServer.withDatabase { _, location in
            try await onOwnThread {
                let (store, _) = try PostgresStore.create(at: location, clock: { Self.now })
                defer { store.close() }
                _ = try store.load(Self.configuration())
                if granted.isPositive {
                    _ = try store.write(as: .tests) { tx in
                        try tx.grant(GrantRequest(
                            idempotencyKey: "grant", organisationID: "met", source: .topUp, credits: granted,
                            effectiveAt: instant("2026-11-01T00:00:00Z")))
                    }
                }
            }
            try await withLiveReplicas(count, at: location, clock: { Self.now }) { ledgers in
                try await Self.serve(ledgers[...], revolut: revolut, serving: []) { try await body($0, ledgers) }
            }
        }
    }

    /// Serves each ledger as `credits serve` does (GraphQL, webhook, usage), one server after another, then
    /// runs `body` with all of them.
    static func serve(
        _ ledgers: ArraySlice<PostgresLiveLedger>, revolut: RevolutClient?, serving: [ServiceHTTPTests.Harness],
        _ body: ([ServiceHTTPTests.Harness]) async throws -> Void
    ) async throws {
        guard let ledger = ledgers.first else { return try await body(serving) }
        var configuration = ServiceConfiguration()
        configuration.port = 0
        configuration.webhookSecrets = [WebhookCreditTests.secret]
        let metrics = MetricsRegistry()
        let handler: any RevolutWebhookHandler = revolut.map {
            LedgerWebhookHandler(ledger: ledger, revolut: $0, now: { Self.now }, logger: quietLogger("webhook"))
        } ?? AcknowledgingWebhookHandler()
        let dependencies = ServiceDependencies(
            keyStore: ServiceHTTPTests.store, metrics: metrics, now: { Self.now }, webhookHandler: handler,
            graphQL: try LedgerSchema.endpoint(
                ledger: ledger, now: { Self.now }, limits: GraphQLLimits(), metrics: metrics, revolut: revolut),
            spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger))
        try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger("replica"),
                onServerRunning: onRunning)
        }) { port in
            let harness = ServiceHTTPTests.Harness(base: URL(string: "http://127.0.0.1:\(port)")!, metrics: metrics)
            try await serve(ledgers.dropFirst(), revolut: revolut, serving: serving + [harness], body)
        }
    }

    @Test func theSameWebhookDeliveredToThreeReplicasFiftyTimesCreditsOnce() async throws {
        let stub = RevolutStub()
        try await stub.run { url in
            let client = RevolutClientTests.client(url)
            try await withReplicas(3, granted: .zero, revolut: client) { replicas, ledgers in
                let order = try await client.createOrder(RevolutOrderRequest(
                    amount: Money(minorUnits: 45_000, currency: .gbp), description: "credits", reference: "ref-replicas",
                    organisationID: "met", packageID: "pack_10k"))
                stub.setState("completed", orderID: order.id)
                let body = #"{"event":"ORDER_COMPLETED","order_id":"\#(order.id)","merchant_order_ext_ref":"ref-replicas"}"#
                let timestamp = "\(Self.now.millisecondsSinceEpoch)"
                let headers = [
                    "Revolut-Signature": WebhookSignatureTests.sign(WebhookCreditTests.secret, timestamp: timestamp, body: body),
                    "Revolut-Request-Timestamp": timestamp, "Content-Type": "application/json",
                ]
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<50 {
                        for replica in replicas {
                            group.addTask {
                                try await send("POST", replica.url("webhooks/revolut"), headers: headers, body: Data(body.utf8))
                                    .status
                            }
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 204, count: 150))
                let processed = replicas.map {
                    $0.metrics.counterValue(ServiceMetrics.webhookDeliveries, labels: [Label("outcome", "processed")])
                }
                #expect(processed.reduce(0, +) == 1, "one delivery credits, whichever replica it reached: \(processed)")
                let (balance, topUp, topUps) = try await ledgers[0].read { reader in
                    (try reader.balance(of: "met"), try reader.topUp(forRevolutOrder: order.id),
                     try reader.history(of: "met", from: nil, to: nil, kinds: [.topUp], afterID: nil, limit: 10, money: .asPosted))
                }
                #expect(balance.available == credits("10000"))
                #expect(topUp?.idempotencyKey == IdempotencyKey.topUp(revolutOrderID: order.id))
                #expect(topUps.count == 1)
                #expect(try await verification(of: ledgers[0]).passed)
            }
        }
    }

    /// 120 one-credit events for 50 credits, each sent to two replicas, all at once: exactly 50 events are
    /// charged, each once, whichever replica answered; the rest are refused (402); the balance ends at zero,
    /// never below; every 201 names the one deduction of its event.
    @Test func usageSpreadAcrossReplicasSpendsExactlyWhatThereWasEachEventOnce() async throws {
        try await withReplicas(3, granted: credits("50"), revolut: nil) { replicas, ledgers in
            let answers = try await withThrowingTaskGroup(of: (String, Int, Int64?).self) { group in
                for index in 0..<120 {
                    for copy in 0..<2 {
                        let replica = replicas[(index + copy) % replicas.count]
                        group.addTask {
                            let answer = try await UsageRouteTests.post(replica, UsageRouteTests.event("r\(index)", credits: "1"))
                            let transfer = answer.status < 300 ? try answer.json()["transfer_id"] as? Int : nil
                            return ("r\(index)", answer.status, transfer.map(Int64.init))
                        }
                    }
                }
                return try await group.reduce(into: [(String, Int, Int64?)]()) { $0.append($1) }
            }
            let unexpected = answers.filter { ![200, 201, 402].contains($0.1) }
            #expect(unexpected.isEmpty, "\(unexpected.prefix(5))")
            let untraced = answers.filter { $0.1 < 300 && $0.2 == nil }
            #expect(untraced.isEmpty, "every 2xx names its deduction: \(untraced.prefix(5))")
            let charged = Dictionary(grouping: answers.filter { $0.1 < 300 }, by: \.0)
            #expect(charged.count == 50, "exactly the 50 spendable credits were spent")
            #expect(answers.filter { $0.1 == 201 }.count == 50, "each charged event was recorded once")
            for (event, copies) in charged {
                #expect(Set(copies.map(\.2)).count == 1, "\(event): both answers name one deduction: \(copies)")
            }
            let (balance, deductions, staged) = try await ledgers[1].read { reader in
                (try reader.balance(of: "met"),
                 try reader.history(of: "met", from: nil, to: nil, kinds: [.deduction], afterID: nil, limit: 500, money: .asPosted),
                 try reader.stagedEventCount())
            }
            #expect(balance.available == .zero)
            #expect(deductions.count == 50)
            #expect(Set(deductions.compactMap(\.references.costEventID)) == Set(charged.keys))
            #expect(deductions.allSatisfy { $0.balanceAfter >= .zero }, "never below the overdraft limit (none)")
            #expect(staged == 50, "a refused event's staging went with its refusal")
            #expect(try await verification(of: ledgers[2]).passed)
        }
    }
}

extension ReplicaTests {
    /// The server ends every connection of a replica (a restart, a failover, an administrator): the replica
    /// connects again and goes on answering, without being restarted itself.
    @Test func aReplicaWhoseConnectionsTheServerEndedConnectsAgain() async throws {
        try await withReplicas(1, granted: credits("50"), revolut: nil) { replicas, ledgers in
            let location = ledgers[0].location
            #expect(try await UsageRouteTests.post(replicas[0], UsageRouteTests.event("before", credits: "1")).status == 201)
            try await PostgresTestServer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(location.database)' AND pid <> pg_backend_pid()",
                at: location)
            // Until the replica has seen its connections end, a request may still fail on one.
            var status = 0
            for attempt in 0..<20 where status != 201 {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(100)) }
                status = try await UsageRouteTests.post(replicas[0], UsageRouteTests.event("after", credits: "1")).status
            }
            #expect(status == 201)
            let balance = try await ledgers[0].read { try $0.balance(of: "met") }
            #expect(balance.available == credits("48"))
        }
    }
}

extension ReplicaTests {
    /// The database refuses new connections after ending the replica's (a restart or failover in progress):
    /// the replica answers 503 with `Retry-After` (`ledger-unavailable`; GraphQL `UNAVAILABLE`), never a 500,
    /// and charges nothing; once the database takes connections again, the same request is charged once.
    @Test func aReplicaWhoseDatabaseIsUnreachableAnswers503ThenRecovers() async throws {
        try await withReplicas(1, granted: credits("50"), revolut: nil) { replicas, ledgers in
            let database = ledgers[0].location.database
            let server = try PostgresTestServer.serverLocation()
            try await PostgresTestServer.execute("ALTER DATABASE \"\(database)\" ALLOW_CONNECTIONS false", at: server)
            try await PostgresTestServer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'", at: server)
            // Until the replica has seen its connections end, a request may still be answered on one.
            var refused: HTTPAnswer?
            for attempt in 0..<20 where refused == nil {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(100)) }
                let answer = try await UsageRouteTests.post(replicas[0], UsageRouteTests.event("during", credits: "1"))
                if answer.status != 201 { refused = answer }
            }
            let answer = try #require(refused)
            #expect(answer.status == 503, "\(answer.text)")
            #expect(answer.header("Retry-After") == "1")
            #expect(try answer.json()["type"] as? String == ProblemType.ledgerUnavailable.uri)
            let balance = try await replicas[0].graphQL(
                LedgerBackedTests.query(#"{ creditBalance(organisationId: "met") { available } }"#),
                key: ServiceHTTPTests.metKey.key)
            #expect(balance.text.contains(#""code":"UNAVAILABLE""#), "\(balance.text)")

            try await PostgresTestServer.execute("ALTER DATABASE \"\(database)\" ALLOW_CONNECTIONS true", at: server)
            let retried = try await UsageRouteTests.post(replicas[0], UsageRouteTests.event("during", credits: "1"))
            #expect(retried.status == 201, "\(retried.text)")
            let available = try await ledgers[0].read { try $0.balance(of: "met").available }
            #expect(available == credits("49"))
        }
    }
}
