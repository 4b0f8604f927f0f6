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
        return try await record(order)
    }

    /// In one write transaction: keeps this view of the order for reconcile, then credits it if it is a
    /// completed payment that matches what we sold and was not credited before.
    private func record(_ order: RevolutOrder) async throws -> WebhookHandlingOutcome {
        let effectiveAt = now()
        let logger = logger
        let outcome: WebhookHandlingOutcome = try await ledger.write { tx in
            if let observation = Self.observation(of: order) { _ = try tx.observe([observation]) }
            switch order.state {
            case .completed: break
            case .pending, .processing, .authorised: return .retryLater
            case .cancelled, .failed, .unknown: return .needsReview
            }
            if try tx.reader.topUp(forRevolutOrder: order.id) != nil { return .duplicate }
            guard let grant = try Self.grantRequest(for: order, reader: tx.reader, at: effectiveAt) else {
                return .needsReview
            }
            _ = try tx.grant(grant)
            return .processed
        }
        switch outcome {
        case .retryLater:
            // Revolut says completed but the order does not yet: ask for the delivery again later.
            throw WebhookRetryLater("order \(order.id) is not completed yet")
        case .needsReview:
            logger.error(
                "order not credited: not a completed payment matching what we sold",
                metadata: ["order_id": "\(order.id)", "state": "\(order.stateText)"])
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
            orderType: order.type?.lowercased() ?? "unknown", orderID: order.id, state: order.stateText,
            amount: amount, merchantReference: order.merchantReference,
            organisationID: order.metadata["organisation_id"],
            packageID: order.metadata["package_id"], relatedOrderID: order.relatedOrderID,
            createdAt: instant(order.createdAt), updatedAt: instant(order.updatedAt), source: "webhook",
            sourceFile: "webhook", sourceLine: 0)
    }

    /// The top-up for `order`, or nil when it does not match what we sold. The purchase we recorded (by
    /// order id, else by our reference) is what was agreed; orders without one fall back to their
    /// metadata and the package's current price in the organisation's currency.
    static func grantRequest(for order: RevolutOrder, reader: LedgerReader, at effectiveAt: Instant) throws
        -> GrantRequest?
    {
        guard order.type == "payment", let expected = try expectedSale(of: order, reader: reader),
            order.amount == expected.price
        else { return nil }
        return GrantRequest(
            idempotencyKey: idempotencyKey(orderID: order.id), organisationID: expected.organisationID,
            source: .topUp, credits: expected.credits, price: expected.price, effectiveAt: effectiveAt,
            expiresAt: expected.expiresAfterDays.map { effectiveAt.adding(days: $0) },
            references: TransferReferences(
                revolutOrderID: order.id, memo: order.merchantReference.map { "Revolut order \($0)" }))
    }

    struct ExpectedSale {
        let organisationID: String
        let credits: Credits
        let price: Money
        let expiresAfterDays: Int?
    }

    static func expectedSale(of order: RevolutOrder, reader: LedgerReader) throws -> ExpectedSale? {
        let purchase = try reader.purchase(revolutOrderID: order.id)
            ?? order.merchantReference.flatMap { try reader.purchase(reference: $0) }
        if let purchase {
            // A purchase already tied to another order does not vouch for this one.
            if let attached = purchase.revolutOrderID, attached != order.id { return nil }
            let package = try reader.creditPackage(purchase.packageID)
            return ExpectedSale(
                organisationID: purchase.organisationID, credits: purchase.credits, price: purchase.price,
                expiresAfterDays: package?.expiresAfterDays)
        }
        guard let organisationID = order.metadata["organisation_id"], let packageID = order.metadata["package_id"],
            let organisation = try reader.organisation(organisationID),
            let package = try reader.creditPackage(packageID),
            let price = package.price(in: organisation.currency)
        else { return nil }
        return ExpectedSale(
            organisationID: organisationID, credits: package.credits, price: price,
            expiresAfterDays: package.expiresAfterDays)
    }
}
