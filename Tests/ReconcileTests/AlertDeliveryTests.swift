import Crypto
import Foundation
@testable import Ledger
import Reconcile
import Testing
import TestSupport

/// Goal: the outbox delivers each fired alert to each webhook exactly once after success, retries
/// a failure on later runs up to a bound, turns a missing secret into a recorded failure, and a dry
/// run changes nothing. The signature is checked independently with swift-crypto on a real
/// loopback receiver.
@Suite("alert delivery", .serialized)
struct AlertDeliveryTests {
    private func lowBalanceWorld(webhooks: [AlertWebhook] = [webhook]) throws -> AlertTestWorld {
        let world = try AlertTestWorld(thresholds: Thresholds(lowBalanceCredits: Credits(100)), webhooks: webhooks)
        try world.topUp("50")
        return world
    }

    @Test("a rerun after a successful delivery sends nothing")
    func outbox_neverSendsTwice() throws {
        let world = try lowBalanceWorld()
        let transport = RecordingTransport()
        let first = try world.run(transport: transport)
        #expect(first.fired.count == 1)
        #expect(first.queued == 1)
        #expect(first.deliveries == AlertRun.Deliveries(attempted: 1, succeeded: 1, failed: 0, abandoned: 0))
        world.clock.advance(days: 1)
        let second = try world.run(transport: transport)
        #expect(second.deliveries.attempted == 0)
        #expect(!second.needsReview)
        #expect(transport.requests.count == 1)
        let row = try #require(try world.outbox().first)
        #expect(row.status == .delivered)
        #expect(row.attempts == 1)
    }

    @Test("a failed delivery is retried by later runs after its backoff, then delivered")
    func failedDelivery_isRetried() throws {
        let world = try lowBalanceWorld()
        let transport = RecordingTransport([.status(500), .failure("connection refused")])
        let first = try world.run(transport: transport)
        #expect(first.deliveries.failed == 1)
        #expect(first.failures.first?.error == "HTTP 500")
        #expect(first.failures.first?.retryAt == world.clock.now.adding(milliseconds: 5 * 60_000))
        #expect(first.needsReview)

        // A rerun at the same instant sends nothing (not due yet) but reports that instant's failure again.
        let rerun = try world.run(transport: transport)
        #expect(rerun.deliveries.attempted == 0 && rerun.failures == first.failures && rerun.needsReview)
        world.clock.set("2026-11-01T09:05:00Z")
        let second = try world.run(transport: transport)
        #expect(second.failures.first?.retryAt == instant("2026-11-01T09:15:00Z"))  // the wait doubles
        #expect(second.fired.isEmpty && second.needsReview)
        let secondRerun = try world.run(transport: transport)
        #expect(secondRerun.failures == second.failures && secondRerun.needsReview, "exit 3 like the run it repeats")
        #expect(transport.requests.count == 2)
        world.clock.set("2026-11-01T09:15:00Z")
        let third = try world.run(transport: transport)
        #expect(third.deliveries.succeeded == 1)
        #expect(third.fired.isEmpty)
        #expect(transport.requests.count == 3)
        // Every attempt carries the same body and delivery id; only the signed timestamp moves.
        #expect(Set(transport.requests.map(\.body)).count == 1)
        #expect(Set(transport.requests.map { $0.headers["Credits-Delivery-Id"] }).count == 1)
        #expect(try world.outbox().first?.attempts == 3)
    }

    @Test("after the last allowed attempt the delivery is failed, reported, and never tried again")
    func retries_areBounded() throws {
        let world = try lowBalanceWorld()
        let transport = RecordingTransport(Array(repeating: .status(503), count: 5))
        let policy = AlertRun.RetryPolicy(maxAttempts: 2, firstBackoffMs: 1000)
        _ = try world.run(transport: transport, retry: policy)
        world.clock.advance(days: 1)
        let last = try world.run(transport: transport, retry: policy)
        #expect(last.deliveries.abandoned == 1)
        #expect(last.failures.first?.retryAt == nil)
        world.clock.advance(days: 1)
        #expect(try world.run(transport: transport, retry: policy).deliveries.attempted == 0)
        #expect(try world.outbox().first?.status == .failed)
        #expect(transport.requests.count == 2)
    }

    @Test("a missing secret is that destination's recorded failure, not a crash")
    func missingSecret_isRecorded() throws {
        let world = try lowBalanceWorld()
        let transport = RecordingTransport()
        let summary = try world.run(transport: transport, environment: [:])
        #expect(summary.fired.count == 1)
        #expect(summary.failures.first?.error.contains("ALERT_SECRET is not set") == true)
        #expect(transport.requests.isEmpty)
        #expect(try world.outbox().first?.lastError?.contains("ALERT_SECRET") == true)
    }

    @Test("alerts are recorded for an organisation without webhooks")
    func noWebhook_stillRecorded() throws {
        let world = try lowBalanceWorld(webhooks: [])
        let summary = try world.run()
        #expect(summary.fired.count == 1)
        #expect(summary.queued == 0)
        #expect(try world.firedCount() == 1)
        #expect(try world.outbox().isEmpty)
    }

    @Test("--dry-run shows what would fire and be sent, and changes nothing")
    func dryRun_changesNothing() throws {
        let world = try lowBalanceWorld()
        let transport = RecordingTransport()
        let dry = try world.run(dryRun: true, transport: transport)
        #expect(dry.fired.count == 1)
        #expect(dry.wouldSend.count == 1)
        #expect(dry.wouldSend.first?.destination == webhook.url)
        #expect(transport.requests.isEmpty)
        #expect(try world.states().isEmpty)
        #expect(try world.outbox().isEmpty)
        #expect(try world.firedCount() == 0)
        // The real run afterwards still fires, exactly once.
        #expect(try world.run(transport: transport).fired.count == 1)
        #expect(transport.requests.count == 1)
    }

    @Test("signed delivery to a loopback receiver: the HMAC verifies with swift-crypto")
    func signedDelivery_onLoopback() throws {
        let server = try LoopbackHTTPServer(statuses: [500])
        defer { server.stop() }
        let receiver = AlertWebhook(url: server.url("/hooks/a"), secretEnv: "ALERT_SECRET")
        let world = try lowBalanceWorld(webhooks: [receiver])
        let transport = URLSessionWebhookTransport(timeoutSeconds: 5)
        let failed = try world.run(transport: transport)
        #expect(failed.failures.first?.error == "HTTP 500")
        world.clock.advance(days: 1)
        let delivered = try world.run(transport: transport)
        #expect(delivered.deliveries.succeeded == 1)

        let requests = server.requests
        #expect(requests.count == 2)
        let request = try #require(requests.last)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/a")
        #expect(request.headers["content-type"] == "application/json")
        let timestamp = try #require(request.headers["credits-request-timestamp"])
        #expect(timestamp == String(world.clock.now.millisecondsSinceEpoch))
        let message = Data("v1.\(timestamp).".utf8) + request.body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data("test-secret".utf8)))
        let expected = "v1=" + mac.map { String(format: "%02x", $0) }.joined()
        #expect(request.headers["credits-signature"] == expected)
        #expect(WebhookSignature.verify(header: expected, body: request.body,
                                        timestamp: world.clock.now, secret: "test-secret"))
        #expect(!WebhookSignature.verify(header: expected, body: request.body + Data(" ".utf8),
                                         timestamp: world.clock.now, secret: "test-secret"))

        let payload = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(payload["event"] as? String == "credits.alert.fired")
        #expect(payload["rule"] as? String == "low_balance")
        #expect(payload["organisationID"] as? String == "a")
        #expect(payload["value"] as? String == "50")
        #expect(String(decoding: request.body, as: UTF8.self).hasPrefix("{\"asOf\":"))  // sorted keys
    }

    @Test("verify accepts any comma-separated v1 entry and refuses another secret or timestamp")
    func signature_verify() {
        let body = Data("{\"a\":1}".utf8)
        let at = instant("2026-11-01T09:00:00Z")
        let good = WebhookSignature.sign(body: body, timestamp: at, secret: "s")
        #expect(good.hasPrefix("v1=") && good.count == 67)
        #expect(WebhookSignature.verify(header: "v1=\(String(repeating: "0", count: 64)), \(good)", body: body,
                                        timestamp: at, secret: "s"))
        #expect(!WebhookSignature.verify(header: good, body: body, timestamp: at, secret: "t"))
        #expect(!WebhookSignature.verify(header: good, body: body, timestamp: at.adding(milliseconds: 1), secret: "s"))
    }

    @Test("an unreachable receiver is a failed attempt with the transport's error")
    func unreachable_isAFailure() throws {
        let server = try LoopbackHTTPServer()
        let url = server.url()
        server.stop()  // nothing listens on that port any more
        let world = try lowBalanceWorld(webhooks: [AlertWebhook(url: url, secretEnv: "ALERT_SECRET")])
        let summary = try world.run(transport: URLSessionWebhookTransport(timeoutSeconds: 2))
        #expect(summary.deliveries.failed == 1)
        #expect(try world.outbox().first?.status == .pending)
    }
}
