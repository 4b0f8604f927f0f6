import Foundation

/// One verified Revolut webhook delivery (shared/revolut.md §6.3). The body carries no amount or state:
/// a handler must fetch the order before acting on it.
public struct RevolutWebhookEvent: Sendable, Equatable {
    /// `ORDER_COMPLETED`, `ORDER_AUTHORISED`, ...; unknown names are passed on, not refused.
    public let event: String
    /// The order id for order and payment events.
    public let orderID: String?
    /// Our `merchant_order_data.reference`, echoed as `merchant_order_ext_ref`.
    public let merchantOrderReference: String?

    public init(event: String, orderID: String?, merchantOrderReference: String?) {
        self.event = event
        self.orderID = orderID
        self.merchantOrderReference = merchantOrderReference
    }

    /// Parses a verified body; nil when it is not a JSON object with a string `event`.
    public static func parse(_ body: Data) -> RevolutWebhookEvent? {
        struct Wire: Decodable {
            let event: String
            let order_id: String?
            let merchant_order_ext_ref: String?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: body), !wire.event.isEmpty else { return nil }
        return RevolutWebhookEvent(
            event: wire.event, orderID: wire.order_id, merchantOrderReference: wire.merchant_order_ext_ref)
    }
}

/// What a handler did with a delivery; the raw value is the metrics label.
public enum WebhookHandlingOutcome: String, Sendable {
    /// Acted on (e.g. an order credited).
    case processed
    /// Already acted on earlier (a duplicate delivery).
    case duplicate
    /// Recorded or acknowledged without effect (other events, unknown events).
    case ignored
    /// Acknowledged but not credited because the order does not match what we sold (amount, currency,
    /// package, organisation): a person must look at it; a retry would not help.
    case needsReview = "needs_review"
    /// Not acted on yet; the route answers 503 so Revolut delivers again. Handlers may return it or throw
    /// `WebhookRetryLater` (which also carries a reason for the log).
    case retryLater = "retry_later"
}

/// Thrown by a handler when Revolut should deliver again later (the ledger is busy, the order lookup
/// failed): the route answers 503 so Revolut's retry schedule applies.
public struct WebhookRetryLater: Error, Sendable {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }
}

/// Acts on verified deliveries. The ledger-backed handler credits completed orders exactly once.
public protocol RevolutWebhookHandler: Sendable {
    func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome
}

/// Acknowledges every delivery without effect: the handler until the ledger-backed one is wired in.
public struct AcknowledgingWebhookHandler: RevolutWebhookHandler {
    public init() {}

    public func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome { .ignored }
}

/// For a service without Revolut API credentials: `ORDER_COMPLETED` cannot be checked, so it is refused
/// with 503 and Revolut delivers it again (up to its retry limit) instead of it being acknowledged and lost.
public struct DeferringWebhookHandler: RevolutWebhookHandler {
    public init() {}

    public func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome {
        guard event.event == "ORDER_COMPLETED" else { return .ignored }
        throw WebhookRetryLater("no Revolut API credentials configured to check the order")
    }
}
