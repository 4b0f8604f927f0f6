import Ledger

/// Something a person should see in the reconciliation report.
public struct Finding: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Hashable, Codable {
        /// Needs a person: the stage exits 3.
        case exception
        /// Waiting longer than expected (a pending order, a purchase never paid).
        case aged
        /// A payment that reconciled cleanly.
        case matched
    }

    public var severity: Severity
    /// The rule, named: `orderAmountMismatch`, `topUpWithoutCompletedOrder`, ...
    public var code: FindingCode
    public var organisationID: String?
    /// What it is about: an order id, an event id, a grant.
    public var subject: String
    public var detail: String
}

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
}
