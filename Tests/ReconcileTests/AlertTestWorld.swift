import Foundation
@testable import Ledger
import Reconcile
import TestSupport

/// One organisation `a` (Europe/London, teams and investigations from SampleWorld) on a real
/// SQLite ledger in a temporary directory, a controlled clock, and helpers to move its balance.
final class AlertTestWorld {
    let directory = TemporaryDirectory("alerts")
    let clock: TestClock
    let ledger: LedgerDatabase
    private var keys = 0

    init(
        thresholds: Thresholds, webhooks: [AlertWebhook] = [], creditsPerPeriod: Credits? = nil,
        start: String = "2026-11-01T09:00:00Z"
    ) throws {
        clock = TestClock(start)
        var organisation = SampleWorld.organisation("a")
        organisation.thresholds = thresholds
        organisation.alertWebhooks = webhooks
        var configuration = SampleWorld.configuration([organisation])
        if let creditsPerPeriod {
            configuration.organisations[0].planID = "monthly"
            configuration.plans = [Plan(
                id: "monthly", name: "Monthly", period: .month, creditsPerPeriod: creditsPerPeriod,
                financialYearStartMonth: 4, rollover: false, prices: [Money(minorUnits: 100_00, currency: .gbp)])]
        }
        ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: clock.provider)
        _ = try ledger.write { try $0.load(configuration) }
    }

    private func nextKey() -> String {
        keys += 1
        return "k-\(keys)"
    }

    /// A top-up effective now (or at `at`).
    func topUp(_ amount: String, at: String? = nil) throws {
        let key = nextKey()
        let effective = at.map(instant) ?? clock.now
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(idempotencyKey: key, organisationID: "a", source: .topUp,
                                      credits: credits(amount), effectiveAt: effective))
        }
    }

    /// Usage by team `analysis`, on `investigation`, effective now (or at `at`).
    func spend(_ amount: String, investigation: String? = "op-urgent", at: String? = nil) throws {
        let key = nextKey()
        let effective = at.map(instant) ?? clock.now
        _ = try ledger.write { tx in
            try tx.spend(SpendRequest(
                idempotencyKey: key, organisationID: "a", credits: credits(amount), effectiveAt: effective,
                priority: .p1, policy: .allowOverdraft(limit: Credits(1_000_000)),
                references: TransferReferences(team: "analysis", investigation: investigation, operation: "ocr")))
        }
    }

    func run(
        dryRun: Bool = false, transport: any WebhookTransport = RecordingTransport(),
        environment: [String: String] = ["ALERT_SECRET": "test-secret"],
        retry: AlertRun.RetryPolicy = AlertRun.RetryPolicy()
    ) throws -> AlertRun.Summary {
        try AlertRun.run(ledger, options: AlertRun.Options(
            clock: clock.provider, dryRun: dryRun, environment: environment, transport: transport, retry: retry))
    }

    func states() throws -> [AlertState] { try ledger.read { try $0.alertStates(of: "a") } }

    func firedCount() throws -> Int { try ledger.read { try $0.alertsFired(of: "a").count } }

    func outbox() throws -> [AlertDelivery] { try ledger.read { try $0.alertDeliveries() } }
}

/// A transport that records requests and answers from a script (200 when it runs out).
final class RecordingTransport: WebhookTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [WebhookRequest] = []
    private var script: [WebhookResponse]

    init(_ script: [WebhookResponse] = []) { self.script = script }

    var requests: [WebhookRequest] { lock.withLock { sent } }

    func send(_ request: WebhookRequest) -> WebhookResponse {
        lock.withLock {
            sent.append(request)
            return script.isEmpty ? .status(200) : script.removeFirst()
        }
    }
}

let webhook = AlertWebhook(url: "https://hooks.example/credits", secretEnv: "ALERT_SECRET")
