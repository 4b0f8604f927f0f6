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
    public var code: String
    public var organisationID: String?
    /// What it is about: an order id, an event id, a grant.
    public var subject: String
    public var detail: String
}

/// Every finding code, in one table (documented in docs/RECONCILE.md).
public enum FindingCode {
    public static let orderMatched = "orderMatched"
    public static let orderNotTied = "orderNotTied"
    public static let unknownPackage = "unknownPackage"
    public static let unknownOrganisation = "unknownOrganisation"
    public static let orderAmountMismatch = "orderAmountMismatch"
    public static let orderCurrencyMismatch = "orderCurrencyMismatch"
    public static let orderSourcesDisagree = "orderSourcesDisagree"
    public static let orderStateUnknown = "orderStateUnknown"
    public static let orderTypeNotHandled = "orderTypeNotHandled"
    public static let orderPendingTooLong = "orderPendingTooLong"
    public static let purchaseWithoutOrder = "purchaseWithoutOrder"
    public static let topUpWithoutCompletedOrder = "topUpWithoutCompletedOrder"
    public static let refundOfUnknownOrder = "refundOfUnknownOrder"
    public static let refundAfterSpend = "refundAfterSpend"
    public static let usageIntoReserve = "usageIntoReserve"
    public static let usageInOverdraft = "usageInOverdraft"
    public static let usageBeyondOverdraftLimit = "usageBeyondOverdraftLimit"
    public static let usageOnClosedInvestigation = "usageOnClosedInvestigation"
    public static let usageOnUnknownInvestigation = "usageOnUnknownInvestigation"
    public static let usageOnUnknownTeam = "usageOnUnknownTeam"
    /// One staged event whose credits no transfer can carry (above `Credits.transferMax`, or at
    /// Int64's edge): not charged, reported per event, void it with `credits ledger void-event`.
    public static let usageNotChargeable = "usageNotChargeable"
    /// A plan total (credits of one kind) passed Int64: reported, not summed, never a stage failure.
    public static let planTotalOverflow = "planTotalOverflow"
}
