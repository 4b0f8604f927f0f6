import Ledger
import Logging

/// Credits a completed Revolut order exactly once (revolut.md §6.5, TESTPLAN I11).
///
/// The webhook body carries no amount or state, so the order is fetched from Revolut first. It is credited
/// only if it is a `payment` in state `completed` whose metadata names an organisation and a package we
/// know, and whose amount and currency equal what we sold. The credit goes through the ledger's
/// `creditCompletedOrder` (key `top-up:revolut:<order id>`, effective at the order's `updated_at` as
/// reconcile does), which checks for an earlier top-up in the same write transaction; the schema allows one
/// top-up per order, so duplicate, concurrent or reordered deliveries and the batch path credit once.
public struct LedgerWebhookHandler: RevolutWebhookHandler {
    let ledger: any LiveLedger
    let revolut: any RevolutOrdersAPI
    let now: NowProvider
    let logger: Logger

    public init(ledger: any LiveLedger, revolut: any RevolutOrdersAPI, now: @escaping NowProvider, logger: Logger) {
        self.ledger = ledger
        self.revolut = revolut
        self.now = now
        self.logger = logger
    }

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
        return try await record(order)
    }

    /// In one write transaction: keeps this view of the order for reconcile, then credits it if it is a
    /// completed payment that matches what we sold and was not credited before.
    private func record(_ order: RevolutOrder) async throws -> WebhookHandlingOutcome {
        let effectiveAt = now()
        let logger = logger
        let outcome: WebhookHandlingOutcome = try await ledger.write(as: .revolutWebhook) { tx in
            if let observation = Self.observation(of: order) { _ = try tx.observe([observation]) }
            switch order.state {
            case .completed: break
            case .pending, .processing, .authorised: return .retryLater
            case .cancelled, .failed, .declined, .reverted, .unknown: return .needsReview
            }
            if try tx.reader.topUp(forRevolutOrder: order.id) != nil { return .duplicate }
            guard let completed = try Self.completedOrder(order, reader: tx.reader, receivedAt: effectiveAt) else {
                return .needsReview
            }
            let posting = try tx.creditCompletedOrder(completed)
            return posting.status == .posted ? .processed : .duplicate
        }
        switch outcome {
        case .retryLater:
            // Revolut says completed but the order does not yet: ask for the delivery again later.
            throw WebhookRetryLater("order \(order.id) is not completed yet")
        case .needsReview:
            logger.error(
                "order not credited: not a completed payment matching what we sold",
                metadata: ["order_id": "\(order.id)", "state": "\(order.state.word)"])
            return .needsReview
        default:
            return outcome
        }
    }

    /// The order as a `webhook` observation; nil when its currency is not an ISO 4217 code we know.
    static func observation(of order: RevolutOrder) -> OrderObservation? {
        guard let amount = order.amount else { return nil }
        let instant = { (text: String?) in text.flatMap { try? Instant.parse($0).get() } }
        return OrderObservation(
            orderType: order.type, orderID: order.id,
            state: order.state,
            amount: amount, merchantReference: order.merchantReference,
            organisationID: order.metadata["organisation_id"],
            packageID: order.metadata["package_id"], relatedOrderID: order.relatedOrderID,
            createdAt: instant(order.createdAt), updatedAt: instant(order.updatedAt), source: "webhook",
            sourceFile: "webhook", sourceLine: 0)
    }

    /// The completed order to credit, or nil when it does not match what we sold: tied and priced by the
    /// one rule reconcile shares (`LedgerReader.orderSale`), paid exactly that price.
    static func completedOrder(_ order: RevolutOrder, reader: LedgerReader, receivedAt: Instant) throws
        -> CompletedOrder?
    {
        guard order.type == .payment,
            case .success(let sale) = try reader.orderSale(
                orderID: order.id, merchantReference: order.merchantReference,
                metadataOrganisationID: order.metadata["organisation_id"], metadataPackageID: order.metadata["package_id"]),
            order.amount == sale.price
        else { return nil }
        // The same rule as reconcile: the completed view's update time, else its creation, else now.
        let parse = { (text: String?) in text.flatMap { try? Instant.parse($0).get() } }
        let completedAt = parse(order.updatedAt) ?? parse(order.createdAt) ?? receivedAt
        return CompletedOrder(
            orderID: order.id, organisationID: sale.organisationID, packageID: sale.packageID,
            credits: sale.credits, price: sale.price, completedAt: completedAt,
            expiresAt: sale.expiresAfterDays.map { completedAt.adding(days: $0) })
    }
}
