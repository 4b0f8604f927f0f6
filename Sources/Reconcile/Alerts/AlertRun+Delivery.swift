import Foundation
import Ledger

extension AlertRun {
    /// Attempts each due outbox row once, then records the outcome in its own transaction.
    ///
    /// A row is marked delivered only after a 2xx, and it is never picked again after that, so a
    /// rerun after success sends nothing. A crash between the send and the record can send one
    /// row twice (at-least-once); the `Credits-Delivery-Id` header lets the receiver drop it.
    ///
    /// A rerun at the instant of an earlier run (the same `--now`, or a run killed after an attempt was
    /// recorded) sends nothing again, but lists in `failures` the attempts that failed at that instant, as
    /// that run did; so it needs review (exit 3) exactly when the uninterrupted run did, as for fired alerts.
    static func deliver(_ ledger: some AlertingStore, options: Options, summary: inout Summary) throws {
        let (due, earlier) = try ledger.reading { reader in
            (try reader.dueAlertDeliveries(at: options.clock(), limit: options.deliveriesMax),
             try reader.alertDeliveriesAttempted(at: summary.asOf))
        }
        let dueIDs = Set(due.map(\.id))
        for delivery in earlier where !dueIDs.contains(delivery.id) && delivery.status != .delivered {
            summary.failures.append(DeliveryFailure(
                organisationID: delivery.organisationID, destination: delivery.destination,
                attempts: delivery.attempts, error: delivery.lastError ?? "",
                retryAt: delivery.status == .pending ? delivery.nextAttemptAt : nil))
        }
        for delivery in due {
            let timestamp = options.clock()
            let response = attempt(delivery, timestamp: timestamp, options: options)
            let attempts = delivery.attempts + 1
            let retryAt = options.retry.retryAt(afterAttempts: attempts, now: timestamp)
            let outcome: AlertDeliveryOutcome = response.delivered
                ? .delivered : .failed(error: response.errorText, retryAt: retryAt)
            _ = try ledger.alerting(rollingBack: false) { tx in
                try tx.recordDeliveryAttempt(id: delivery.id, signatureTimestamp: timestamp, outcome: outcome)
            }
            summary.deliveries.attempted += 1
            if response.delivered {
                summary.deliveries.succeeded += 1
                continue
            }
            summary.deliveries.failed += 1
            if retryAt == nil { summary.deliveries.abandoned += 1 }
            summary.failures.append(DeliveryFailure(
                organisationID: delivery.organisationID, destination: delivery.destination, attempts: attempts,
                error: response.errorText, retryAt: retryAt))
        }
    }

    /// Signs and sends one row. A bad URL or a missing secret is this destination's failure,
    /// recorded like any other, never a crash of the run.
    static func attempt(_ delivery: AlertDelivery, timestamp: Instant, options: Options) -> WebhookResponse {
        guard let url = URL(string: delivery.destination), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { return .failure("\(delivery.destination) is not an http(s) URL") }
        guard let secret = options.environment[delivery.secretEnv], !secret.isEmpty else {
            return .failure("no signing secret: the environment variable \(delivery.secretEnv) is not set")
        }
        let body = Data(delivery.payload.utf8)
        let headers = [
            "Content-Type": "application/json",
            "User-Agent": "credits-alerts",
            "Credits-Delivery-Id": delivery.dedupeKey,
            WebhookSignature.timestampHeader: String(timestamp.millisecondsSinceEpoch),
            WebhookSignature.signatureHeader: WebhookSignature.sign(body: body, timestamp: timestamp, secret: secret),
        ]
        return options.transport.send(WebhookRequest(url: url, headers: headers, body: body))
    }
}
