// Builds an invoice's content from the ledger (through Ledger's read API; no SQL here).
//
// Lines, in this order, each in posting order:
// - plan fee: each allocation in the period, at the price recorded on it (the plan fee);
// - packages: each top-up, with its Revolut order id and local date, at the price paid;
// - adjustments: each adjustment with a money value, signed (a priced grant is a charge, credits
//   taken back show their cost as a credit), and each reversal as a credit (a refunded package).
// Transfers with no money value (free grants) are not billed. The number is allocated by the
// Ledger when the invoice is recorded (not here), so a draft can be rebuilt at any time.
import Foundation
import Ledger

/// Reads invoice drafts out of the ledger.
public enum InvoiceQuery {
    /// The invoice for `organisation` and `period`, numbered `number`, issued on `issueDate` and due
    /// `paymentTermsDays` later, taxed at the organisation's rate (parts per million).
    public static func draft(
        _ reader: any LedgerReads, organisation: Organisation, issuer: Issuer, period: ReportPeriod, number: String,
        issueDate: LocalDate
    ) throws -> Invoice {
        let window = try PeriodReportQuery.window(period, for: organisation)
        let zone = try PeriodReportQuery.timeZone(organisation)
        let transfers = try billable(reader, organisationID: organisation.id, window: window)
        let plan = try organisation.planID.flatMap { try reader.plan($0) }
        let lines = transfers.compactMap { line($0, organisationID: organisation.id, zone: zone, plan: plan) }
        let appendix = try reader.consumption(
            of: organisation.id, currency: organisation.currency, in: window, by: .team, then: .investigation
        ).map { pair in
            InvoiceAppendixRow(team: pair.first, investigation: pair.group.key, eventCount: pair.group.eventCount,
                               consumption: CreditsAndMoney(credits: pair.group.credits, money: pair.group.money))
        }
        return try Invoice(
            number: number, issueDate: issueDate, dueDate: issueDate.adding(days: organisation.paymentTermsDays),
            period: period, seller: seller(issuer), buyer: buyer(organisation), currency: organisation.currency,
            lines: lines, taxRatePercent: ExactDecimal(significand: organisation.taxRatePPM, scale: 4),
            appendix: appendix)
    }

    static let billedKinds: Set<TransferKind> = [.allocation, .topUp, .adjustment, .reversal]
    /// Transfers read per page; an organisation has few billable transfers a period.
    static let pageTransfersMax = 1000

    static func billable(_ reader: any LedgerReads, organisationID: String, window: ReportWindow) throws -> [Transfer] {
        var transfers: [Transfer] = []
        var afterID: Int64?
        while true {
            let page = try reader.history(of: organisationID, from: window.start, to: window.end, kinds: billedKinds,
                                          afterID: afterID, limit: pageTransfersMax, money: .asPosted)
            transfers += page
            guard page.count == pageTransfersMax, let last = page.last else { return transfers }
            afterID = last.id
        }
    }

    static func line(_ transfer: Transfer, organisationID: String, zone: TimeZone, plan: Plan? = nil) -> InvoiceLine? {
        guard transfer.money.minorUnits != 0 else { return nil }
        let amount = transfer.signedMoney(for: organisationID)
        let date = LocalDate.of(transfer.effectiveAt, in: zone)
        let references = transfer.references
        switch transfer.kind {
        case .allocation:
            // The allocation records the plan fee it was posted at, which is what is owed even if
            // the plan's price list changed since.
            let period = references.planPeriod.map { ", period \($0)" } ?? ""
            let description = plan.map { "Plan fee: \($0.name)\(period)" } ?? references.memo ?? "Plan fee\(period)"
            return InvoiceLine(kind: .planFee, description: description,
                               reference: references.planPeriod, date: date, credits: transfer.amount, amount: amount)
        case .topUp:
            let description = references.memo ?? "Credit package, \(transfer.amount) credits"
            return InvoiceLine(kind: .package, description: description, reference: references.revolutOrderID,
                               date: date, credits: transfer.amount, amount: amount)
        case .reversal, .adjustment:
            let label = transfer.kind == .reversal ? "Reversal" : "Adjustment"
            return InvoiceLine(kind: .adjustment, description: references.memo ?? label,
                               reference: references.revolutOrderID ?? transfer.idempotencyKey, date: date,
                               credits: transfer.signedAmount(for: organisationID), amount: amount)
        case .deduction, .expiry:
            return nil
        }
    }

    static func seller(_ issuer: Issuer) -> InvoiceParty {
        InvoiceParty(name: issuer.legalName, addressLines: issuer.address, taxID: issuer.taxNumber,
                     email: issuer.email)
    }

    static func buyer(_ organisation: Organisation) -> InvoiceParty {
        let details = organisation.invoiceDetails
        let purchaseOrder = details.purchaseOrder.map { ["Purchase order: \($0)"] } ?? []
        return InvoiceParty(name: details.legalName, addressLines: details.address + purchaseOrder,
                            taxID: details.taxNumber, email: details.email)
    }
}
