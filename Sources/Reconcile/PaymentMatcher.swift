import Foundation
import Ledger

/// The three-way match of payments: what we created (purchases), what Revolut says (order
/// observations, newest state), and what the ledger holds (top-ups). Proposes top-ups for
/// completed orders not yet credited (a missed or late webhook) and reversals for refunds and
/// chargebacks; everything else that does not tie out becomes a finding.
struct PaymentMatcher {
    let reader: LedgerReader
    let asOf: Instant
    let agedAfter: Int64
    /// Completed orders not yet credited, as orders: each becomes a top-up item only when the walk
    /// reaches it (`HeldCandidates`), so the walk holds one small value per order, not an item.
    private(set) var topUps: [CompletedOrder] = []
    /// Refunds and chargebacks to reverse (few).
    private(set) var reversals: [PlanItem] = []
    var findings: [Finding] = []
    /// Each organisation and package read once per run, however many orders name it.
    private let catalogue: CachedSaleCatalogue
    /// Orders are reported matched once: those whose top-up was recorded since the last plan was
    /// applied (webhook top-ups, and the last plan's own). Reporting every order ever credited
    /// made each night's plan grow with the whole payment history.
    private var matchedSince: Instant?

    init(reader: LedgerReader, asOf: Instant, agedAfterDays: Int) {
        self.reader = reader
        self.asOf = asOf
        self.agedAfter = Int64(agedAfterDays) * Instant.millisecondsPerDay
        self.catalogue = CachedSaleCatalogue(reader: reader)
    }

    /// The top-ups and reversals `run` proposed, moved out (this matcher holds none after), so the
    /// caller owns the only copy.
    mutating func takeProposals() -> (topUps: [CompletedOrder], reversals: [PlanItem]) {
        defer { topUps = []; reversals = [] }
        return (topUps, reversals)
    }

    /// One pass over the orders, streamed by order id: payments first as they come; refunds and
    /// chargebacks (few) after every payment, against the payments they name, which are the only
    /// credited orders remembered. Top-ups and purchases without an order are found by queries.
    mutating func run() throws {
        matchedSince = try reader.lastPlanAppliedAt()
        let named = try reader.ordersNamedByOtherOrders()
        var credited: [String: (order: CompletedOrder, amount: Money)] = [:]
        var otherOrders: [[OrderObservation]] = []
        try reader.forEachOrder { order in
            let orderID = order.views[0].orderID
            guard order.views[0].orderType == .payment else { return otherOrders.append(order.views) }
            if let completed = try matchPayment(order), named.contains(orderID) { credited[orderID] = completed }
        }
        for views in otherOrders { try matchRefund(views[0].orderID, views, credited: credited) }
        try findTopUpsWithoutOrders()
        try findPurchasesWithoutOrders()
    }

    /// Returns the credited order (proposed or already in the ledger) when the payment completed.
    private mutating func matchPayment(_ observed: ObservedOrder) throws -> (order: CompletedOrder, amount: Money)? {
        let views = observed.views
        let orderID = views[0].orderID
        let latest = views.last!
        guard let completed = views.first(where: { $0.state == .completed }) else {
            if latest.state.isOpen {
                let created = views.compactMap(\.createdAt).min() ?? latest.updatedAt ?? asOf
                if asOf.millisecondsSinceEpoch - created.millisecondsSinceEpoch > agedAfter {
                    finding(.aged, FindingCode.orderPendingTooLong, latest.organisationID, orderID,
                            "\(latest.state.word) since \(created.iso8601) (reference \(latest.merchantReference ?? "none"))")
                }
            } else if !latest.state.isDocumented {
                finding(.exception, FindingCode.orderStateUnknown, latest.organisationID, orderID,
                        "state \(latest.state.word) is not one Revolut documents; check the order by hand")
            }
            return nil
        }
        let amounts = Set(views.filter { $0.state == .completed }.map(\.amount))
        guard amounts.count == 1 else {
            finding(.exception, FindingCode.orderSourcesDisagree, completed.organisationID, orderID,
                    "sources report different amounts: \(amounts.map(\.description).sorted().joined(separator: ", "))")
            return nil
        }
        guard let tie = try tie(observed) else { return nil }
        let completedAt = completed.updatedAt ?? completed.createdAt ?? asOf
        guard completedAt < asOf else { return nil }
        let order = CompletedOrder(
            orderID: orderID, organisationID: tie.organisationID, packageID: tie.packageID, credits: tie.credits,
            price: tie.price, completedAt: completedAt,
            expiresAt: tie.expiresAfterDays.map { completedAt.adding(days: $0) })
        guard completed.amount.currency == tie.price.currency else {
            finding(.exception, FindingCode.orderCurrencyMismatch, tie.organisationID, orderID,
                    "paid in \(completed.amount.currency) but \(tie.packageID) costs \(tie.price); nothing credited")
            return nil
        }
        guard completed.amount == tie.price else {
            finding(.exception, FindingCode.orderAmountMismatch, tie.organisationID, orderID,
                    "paid \(completed.amount) but \(tie.packageID) costs \(tie.price); nothing credited")
            return nil
        }
        if let topUp = observed.topUp {
            if matchedSince.map({ topUp.recordedAt >= $0 }) ?? true {
                finding(.matched, FindingCode.orderMatched, tie.organisationID, orderID,
                        "credited \(topUp.credits) credits by transfer \(topUp.transferID)")
            }
        } else {
            topUps.append(order)
        }
        return (order, completed.amount)
    }

    /// Ties an order to what was sold by the one rule the webhook shares (`OrderSale.of`, with the
    /// purchase read with the order); a problem becomes the finding of the same name.
    private mutating func tie(_ order: ObservedOrder) throws -> OrderSale? {
        let views = order.views
        let orderID = views[0].orderID
        switch try OrderSale.of(
            orderID: orderID, merchantReference: views.compactMap(\.merchantReference).first, purchase: order.purchase,
            metadataOrganisationID: views.compactMap(\.organisationID).first,
            metadataPackageID: views.compactMap(\.packageID).first, catalogue: catalogue)
        {
        case .success(let sale):
            return sale
        case .failure(.notTied(let reference)):
            finding(.exception, .orderNotTied, nil, orderID,
                    "no purchase with reference \(reference ?? "(none)") and no organisation_id/package_id metadata")
        case .failure(.purchaseOfAnotherOrder(let reference, let paidBy)):
            finding(.exception, .purchaseOfAnotherOrder, nil, orderID,
                    "purchase \(reference) was paid by order \(paidBy); nothing credited")
        case .failure(.unknownOrganisation(let organisationID)):
            finding(.exception, .unknownOrganisation, nil, orderID, "organisation \(organisationID) is not configured")
        case .failure(.unknownPackage(let organisationID, let packageID)):
            finding(.exception, .unknownPackage, organisationID, orderID, "package \(packageID) is not configured")
        case .failure(.noPriceInCurrency(let organisationID, let packageID, let currency)):
            finding(.exception, .orderCurrencyMismatch, organisationID, orderID,
                    "package \(packageID) has no price in \(currency)")
        }
        return nil
    }

    private mutating func matchRefund(
        _ orderID: String, _ views: [OrderObservation], credited: [String: (order: CompletedOrder, amount: Money)]
    ) throws {
        let latest = views.last!
        guard latest.orderType == .refund || latest.orderType == .chargeback else {
            finding(.exception, FindingCode.orderTypeNotHandled, latest.organisationID, orderID,
                    "order type \(latest.orderType.word) is not reconciled automatically")
            return
        }
        guard let completed = views.first(where: { $0.state == .completed }) else { return }
        let key = IdempotencyKey.reversal(revolutOrderID: orderID)
        guard try reader.transfer(idempotencyKey: key) == nil else { return }
        guard let originalID = views.compactMap(\.relatedOrderID).first, let original = credited[originalID] else {
            finding(.exception, FindingCode.refundOfUnknownOrder, latest.organisationID, orderID,
                    "\(latest.orderType.word) of \(views.compactMap(\.relatedOrderID).first ?? "an unknown order") "
                        + "that was never credited; nothing to reverse")
            return
        }
        // The share of the package's credits this refund returns, rounded half-even to micro-credits.
        guard let share = Checked.multiplyDivide(
            original.order.credits.microcredits, min(completed.amount.minorUnits, original.amount.minorUnits),
            original.amount.minorUnits, .halfEven), share > 0
        else { return }
        let effectiveAt = max(completed.updatedAt ?? completed.createdAt ?? asOf, original.order.completedAt)
        guard effectiveAt < asOf else { return }
        reversals.append(PlanItem(
            kind: .reversal, idempotencyKey: key, organisationID: original.order.organisationID, effectiveAt: effectiveAt,
            credits: Credits(microcredits: share), grantKey: IdempotencyKey.topUp(revolutOrderID: originalID),
            references: TransferReferences(revolutOrderID: originalID, memo: "\(latest.orderType.word) \(orderID)")))
    }

    /// Top-ups effective before the as-of instant only: one credited after it (a live webhook while
    /// the night's plan waits for apply) belongs to a later window, whose exports will show its order.
    private mutating func findTopUpsWithoutOrders() throws {
        for topUp in try reader.orderTopUpsWithoutCompletedPayment(effectiveBefore: asOf) {
            finding(.exception, FindingCode.topUpWithoutCompletedOrder, topUp.organisationID, topUp.references.revolutOrderID!,
                    "transfer \(topUp.id) credited \(topUp.amount) credits but no completed payment for this order was seen")
        }
    }

    private mutating func findPurchasesWithoutOrders() throws {
        for purchase in try reader.purchasesWithoutObservedOrder()
        where asOf.millisecondsSinceEpoch - purchase.createdAt.millisecondsSinceEpoch > agedAfter {
            finding(.aged, FindingCode.purchaseWithoutOrder, purchase.organisationID, purchase.reference,
                    "purchase of \(purchase.packageID) created \(purchase.createdAt.iso8601) has no Revolut order yet")
        }
    }

    private mutating func finding(
        _ severity: FindingSeverity, _ code: FindingCode, _ organisationID: String?, _ subject: String, _ detail: String
    ) {
        findings.append(Finding(severity: severity, code: code, organisationID: organisationID, subject: subject, detail: detail))
    }
}
