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
    var items: [PlanItem] = []
    var findings: [Finding] = []
    /// Organisations and packages read once each: a night can bring 100,000 orders for a few
    /// hundred organisations, each with its teams and investigations to read.
    private var organisations: [String: Organisation?] = [:]
    private var packages: [String: CreditPackage?] = [:]

    /// States in which an order may still complete.
    static let openStates: Set<String> = ["pending", "processing", "authorised"]
    static let finalStates: Set<String> = ["completed", "cancelled", "failed"]

    init(reader: LedgerReader, asOf: Instant, agedAfterDays: Int) {
        self.reader = reader
        self.asOf = asOf
        self.agedAfter = Int64(agedAfterDays) * Instant.millisecondsPerDay
    }

    mutating func run() throws {
        let byOrder = Dictionary(grouping: try reader.orderObservations(), by: \.orderID)
        var credited: [String: (order: CompletedOrder, amount: Money)] = [:]
        for orderID in byOrder.keys.sorted() where byOrder[orderID]!.first!.orderType == "payment" {
            if let completed = try matchPayment(orderID, byOrder[orderID]!) { credited[orderID] = completed }
        }
        for orderID in byOrder.keys.sorted() where byOrder[orderID]!.first!.orderType != "payment" {
            try matchRefund(orderID, byOrder[orderID]!, byOrder: byOrder, credited: credited)
        }
        try findTopUpsWithoutOrders(byOrder)
        try findPurchasesWithoutOrders(byOrder)
    }

    /// Returns the credited order (proposed or already in the ledger) when the payment completed.
    private mutating func matchPayment(_ orderID: String, _ views: [OrderObservation]) throws -> (order: CompletedOrder, amount: Money)? {
        let latest = views.last!
        guard let completed = views.first(where: { $0.state == "completed" }) else {
            if Self.openStates.contains(latest.state) {
                let created = views.compactMap(\.createdAt).min() ?? latest.updatedAt ?? asOf
                if asOf.millisecondsSinceEpoch - created.millisecondsSinceEpoch > agedAfter {
                    finding(.aged, FindingCode.orderPendingTooLong, latest.organisationID, orderID,
                            "\(latest.state) since \(created.iso8601) (reference \(latest.merchantReference ?? "none"))")
                }
            } else if !Self.finalStates.contains(latest.state) {
                finding(.exception, FindingCode.orderStateUnknown, latest.organisationID, orderID,
                        "state \(latest.state) is not one Revolut documents; check the order by hand")
            }
            return nil
        }
        let amounts = Set(views.filter { $0.state == "completed" }.map(\.amount))
        guard amounts.count == 1 else {
            finding(.exception, FindingCode.orderSourcesDisagree, completed.organisationID, orderID,
                    "sources report different amounts: \(amounts.map(\.description).sorted().joined(separator: ", "))")
            return nil
        }
        guard let tie = try tie(views) else { return nil }
        let completedAt = completed.updatedAt ?? completed.createdAt ?? asOf
        guard completedAt < asOf else { return nil }
        let order = CompletedOrder(
            orderID: orderID, organisationID: tie.organisation.id, packageID: tie.package.id, credits: tie.credits,
            price: tie.price, completedAt: completedAt,
            expiresAt: tie.package.expiresAfterDays.map { completedAt.adding(days: $0) })
        guard completed.amount.currency == tie.price.currency else {
            finding(.exception, FindingCode.orderCurrencyMismatch, tie.organisation.id, orderID,
                    "paid in \(completed.amount.currency) but \(tie.package.id) costs \(tie.price); nothing credited")
            return nil
        }
        guard completed.amount == tie.price else {
            finding(.exception, FindingCode.orderAmountMismatch, tie.organisation.id, orderID,
                    "paid \(completed.amount) but \(tie.package.id) costs \(tie.price); nothing credited")
            return nil
        }
        if let topUp = try reader.topUp(forRevolutOrder: orderID) {
            finding(.matched, FindingCode.orderMatched, tie.organisation.id, orderID,
                    "credited \(topUp.amount) credits by transfer \(topUp.id)")
        } else {
            items.append(PlanItem(
                kind: .topUp, idempotencyKey: CompletedOrder.topUpKey(orderID: orderID),
                organisationID: tie.organisation.id, effectiveAt: completedAt, order: order,
                references: TransferReferences(revolutOrderID: orderID, memo: "package \(tie.package.id)")))
        }
        return (order, completed.amount)
    }

    private struct Tie {
        let organisation: Organisation
        let package: CreditPackage
        let credits: Credits
        let price: Money
    }

    /// Ties an order to an organisation and a package: through our purchase (by reference or
    /// order id), else through the order's metadata.
    private mutating func tie(_ views: [OrderObservation]) throws -> Tie? {
        let orderID = views[0].orderID
        let reference = views.compactMap(\.merchantReference).first
        let purchase = try reference.flatMap { try reader.purchase(reference: $0) }
            ?? reader.purchase(revolutOrderID: orderID)
        guard let organisationID = purchase?.organisationID ?? views.compactMap(\.organisationID).first,
            let packageID = purchase?.packageID ?? views.compactMap(\.packageID).first
        else {
            finding(.exception, FindingCode.orderNotTied, nil, orderID,
                    "no purchase with reference \(reference ?? "(none)") and no organisation_id/package_id metadata")
            return nil
        }
        guard let organisation = try organisation(organisationID) else {
            finding(.exception, FindingCode.unknownOrganisation, nil, orderID, "organisation \(organisationID) is not configured")
            return nil
        }
        guard let package = try package(packageID) else {
            finding(.exception, FindingCode.unknownPackage, organisationID, orderID, "package \(packageID) is not configured")
            return nil
        }
        guard let price = purchase?.price ?? package.price(in: organisation.currency) else {
            finding(.exception, FindingCode.orderCurrencyMismatch, organisationID, orderID,
                    "package \(packageID) has no price in \(organisation.currency)")
            return nil
        }
        return Tie(organisation: organisation, package: package, credits: purchase?.credits ?? package.credits, price: price)
    }

    private mutating func matchRefund(
        _ orderID: String, _ views: [OrderObservation], byOrder: [String: [OrderObservation]],
        credited: [String: (order: CompletedOrder, amount: Money)]
    ) throws {
        let latest = views.last!
        guard ["refund", "chargeback"].contains(latest.orderType) else {
            finding(.exception, FindingCode.orderTypeNotHandled, latest.organisationID, orderID,
                    "order type \(latest.orderType) is not reconciled automatically")
            return
        }
        guard let completed = views.first(where: { $0.state == "completed" }) else { return }
        let key = "reversal:revolut:\(orderID)"
        guard try reader.transfer(idempotencyKey: key) == nil else { return }
        guard let originalID = views.compactMap(\.relatedOrderID).first, let original = credited[originalID] else {
            finding(.exception, FindingCode.refundOfUnknownOrder, latest.organisationID, orderID,
                    "\(latest.orderType) of \(views.compactMap(\.relatedOrderID).first ?? "an unknown order") "
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
        items.append(PlanItem(
            kind: .reversal, idempotencyKey: key, organisationID: original.order.organisationID, effectiveAt: effectiveAt,
            credits: Credits(microcredits: share), grantKey: CompletedOrder.topUpKey(orderID: originalID),
            references: TransferReferences(revolutOrderID: originalID, memo: "\(latest.orderType) \(orderID)")))
    }

    /// Top-ups effective before the as-of instant only: one credited after it (a live webhook while
    /// the night's plan waits for apply) belongs to a later window, whose exports will show its order.
    private mutating func findTopUpsWithoutOrders(_ byOrder: [String: [OrderObservation]]) throws {
        for topUp in try reader.orderTopUps() where topUp.effectiveAt < asOf {
            let orderID = topUp.references.revolutOrderID!
            let completed = byOrder[orderID]?.contains { $0.state == "completed" && $0.orderType == "payment" } ?? false
            if !completed {
                finding(.exception, FindingCode.topUpWithoutCompletedOrder, topUp.organisationID, orderID,
                        "transfer \(topUp.id) credited \(topUp.amount) credits but no completed payment for this order was seen")
            }
        }
    }

    private mutating func findPurchasesWithoutOrders(_ byOrder: [String: [OrderObservation]]) throws {
        let references = Set(byOrder.values.flatMap { $0.compactMap(\.merchantReference) })
        for purchase in try reader.purchases() where !references.contains(purchase.reference) {
            if purchase.revolutOrderID.map({ byOrder[$0] != nil }) == true { continue }
            if asOf.millisecondsSinceEpoch - purchase.createdAt.millisecondsSinceEpoch > agedAfter {
                finding(.aged, FindingCode.purchaseWithoutOrder, purchase.organisationID, purchase.reference,
                        "purchase of \(purchase.packageID) created \(purchase.createdAt.iso8601) has no Revolut order yet")
            }
        }
    }

    private mutating func organisation(_ id: String) throws -> Organisation? {
        if let known = organisations[id] { return known }
        let read = try reader.organisation(id)
        organisations[id] = read
        return read
    }

    private mutating func package(_ id: String) throws -> CreditPackage? {
        if let known = packages[id] { return known }
        let read = try reader.creditPackage(id)
        packages[id] = read
        return read
    }

    private mutating func finding(
        _ severity: Finding.Severity, _ code: String, _ organisationID: String?, _ subject: String, _ detail: String
    ) {
        findings.append(Finding(severity: severity, code: code, organisationID: organisationID, subject: subject, detail: detail))
    }
}
