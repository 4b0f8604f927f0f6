import Ledger
import Logging

/// Credits a completed Revolut order exactly once (revolut.md §6.5, TESTPLAN I11).
///
/// The webhook body carries no amount or state, so the order is fetched from Revolut first. It is credited
/// only if it is a `payment` in state `completed` whose metadata names an organisation and a package we
/// know, and whose amount and currency equal that package's price in the organisation's currency. The
/// credit is a top-up grant with idempotency key `revolut-order:<order id>`; the existence check and the
/// posting run in one write transaction, and the schema allows one top-up per order, so duplicate,
/// concurrent or reordered deliveries (and the batch import of the same order) credit once.
public struct LedgerWebhookHandler: RevolutWebhookHandler {
    let ledger: LedgerDatabase
    let revolut: any RevolutOrdersAPI
    let now: NowProvider
    let logger: Logger

    public init(ledger: LedgerDatabase, revolut: any RevolutOrdersAPI, now: @escaping NowProvider, logger: Logger) {
        self.ledger = ledger
        self.revolut = revolut
        self.now = now
        self.logger = logger
    }

    /// The idempotency key of the top-up that credits a Revolut order.
    public static func idempotencyKey(orderID: String) -> String { "revolut-order:\(orderID)" }

    public func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome {
        guard event.event == "ORDER_COMPLETED", let orderID = event.orderID, !orderID.isEmpty else {
            return .ignored
        }
        let order: RevolutOrder
        do {
            order = try await revolut.retrieveOrder(id: orderID)
        } catch .notFound {
            logger.error("webhook for an order Revolut does not know", metadata: ["order_id": "\(orderID)"])
            return .needsReview
        } catch {
            throw WebhookRetryLater("order lookup failed: \(error)")
        }
        switch order.state {
        case .completed: break
        case .pending, .processing, .authorised:
            // Revolut says completed but the order does not yet: ask for the delivery again later.
            throw WebhookRetryLater("order \(order.id) is not completed yet")
        case .cancelled, .failed, .unknown:
            logger.error("ORDER_COMPLETED for an order in another state", metadata: ["order_id": "\(order.id)"])
            return .needsReview
        }
        return try await credit(order)
    }

    private func credit(_ order: RevolutOrder) async throws -> WebhookHandlingOutcome {
        let effectiveAt = now()
        let logger = logger
        return try await ledger.write { tx in
            if try tx.reader.topUp(forRevolutOrder: order.id) != nil { return .duplicate }
            guard let grant = try Self.grantRequest(for: order, reader: tx.reader, at: effectiveAt) else {
                logger.error("completed order does not match a package we sold", metadata: ["order_id": "\(order.id)"])
                return .needsReview
            }
            _ = try tx.grant(grant)
            return .processed
        }
    }

    /// The top-up for `order`, or nil when it does not match what we sold.
    static func grantRequest(for order: RevolutOrder, reader: LedgerReader, at effectiveAt: Instant) throws
        -> GrantRequest?
    {
        guard order.type == "payment",
            let organisationID = order.metadata["organisation_id"], let packageID = order.metadata["package_id"],
            let organisation = try reader.organisation(organisationID),
            let package = try reader.creditPackage(packageID),
            let price = package.price(in: organisation.currency),
            order.amount == price
        else { return nil }
        return GrantRequest(
            idempotencyKey: idempotencyKey(orderID: order.id), organisationID: organisationID, source: .topUp,
            credits: package.credits, price: price, effectiveAt: effectiveAt,
            expiresAt: package.expiresAfterDays.map { effectiveAt.adding(days: $0) },
            references: TransferReferences(
                revolutOrderID: order.id, memo: order.merchantReference.map { "Revolut order \($0)" }))
    }
}
