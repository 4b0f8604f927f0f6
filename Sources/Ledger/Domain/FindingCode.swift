/// Every finding code, in one catalogue (docs/CODES.md lists each with its severity and exit code;
/// a test keeps the two in step). A code is the name of the rule the finding reports, stable across
/// releases: append new cases, never rename one; a code no longer produced stays, retired.
public enum FindingCode: String, Sendable, Hashable, Codable, CaseIterable {
    /// A completed order and its top-up agree.
    case orderMatched
    /// No purchase and no metadata ties the order to an organisation and package.
    case orderNotTied
    /// The tie names a package that is not configured.
    case unknownPackage
    /// The tie names an organisation that is not configured.
    case unknownOrganisation
    /// The paid amount differs from the price; nothing credited.
    case orderAmountMismatch
    /// Paid in another currency, or the package has no price in the organisation's; nothing credited.
    case orderCurrencyMismatch
    /// The API export and the report CSV show different amounts for the order.
    case orderSourcesDisagree
    /// A state Revolut does not document.
    case orderStateUnknown
    /// An order type other than payment, refund, chargeback.
    case orderTypeNotHandled
    /// Pending, processing or authorised for longer than the aged-after days.
    case orderPendingTooLong
    /// A purchase we created never got an order.
    case purchaseWithoutOrder
    /// A top-up names an order no source shows completed.
    case topUpWithoutCompletedOrder
    /// A refund or chargeback of an order never credited.
    case refundOfUnknownOrder
    /// Part of the refunded credits was already spent (the unspent part is reversed).
    case refundAfterSpend
    /// Usage charged into capacity reserved for higher priorities.
    case usageIntoReserve
    /// Usage charged beyond every grant, within the overdraft limit.
    case usageInOverdraft
    /// Usage not charged: it would pass the overdraft limit; it stays staged.
    case usageBeyondOverdraftLimit
    /// Usage on a closed investigation: charged and flagged.
    case usageOnClosedInvestigation
    /// Usage on an investigation not configured: charged and flagged.
    case usageOnUnknownInvestigation
    /// Usage on a team not configured: charged and flagged.
    case usageOnUnknownTeam
    /// One staged event whose credits no transfer can carry (above `Credits.transferMax`, or at
    /// Int64's edge): not charged, reported per event; void it with `credits ledger void-event`.
    case usageNotChargeable
    /// A plan total (credits of one kind) passed Int64: reported, not summed, never a stage failure.
    case planTotalOverflow
    /// The purchase our reference names was paid by another order: it does not vouch for this one.
    case purchaseOfAnotherOrder
    /// Usage not charged: a hard budget on its path (`budget_exceeded`) would be passed; it stays
    /// staged. One finding per organisation and blocking budget.
    case budgetExceeded
    /// Usage charged past a soft budget on its path: flagged (severity `info`), never refused.
    case budgetSoftExceeded

    /// Whether the rule is about usage (cost events) rather than payments: usage rules are the
    /// `usage*` codes. Written out case by case so a new code has to be placed.
    public var isAboutUsage: Bool {
        switch self {
        case .usageIntoReserve, .usageInOverdraft, .usageBeyondOverdraftLimit, .usageOnClosedInvestigation,
             .usageOnUnknownInvestigation, .usageOnUnknownTeam, .usageNotChargeable, .budgetExceeded,
             .budgetSoftExceeded:
            true
        case .orderMatched, .orderNotTied, .unknownPackage, .unknownOrganisation, .orderAmountMismatch,
             .orderCurrencyMismatch, .orderSourcesDisagree, .orderStateUnknown, .orderTypeNotHandled,
             .orderPendingTooLong, .purchaseWithoutOrder, .topUpWithoutCompletedOrder, .refundOfUnknownOrder,
             .refundAfterSpend, .planTotalOverflow, .purchaseOfAnotherOrder:
            false
        }
    }
}
