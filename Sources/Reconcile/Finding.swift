import Ledger

/// Something a person should see in the reconciliation report.
public struct Finding: Sendable, Hashable, Codable {
    public var severity: FindingSeverity
    /// The rule, named: `orderAmountMismatch`, `topUpWithoutCompletedOrder`, ...
    public var code: FindingCode
    public var organisationID: String?
    /// What it is about: an order id, an event id, a grant.
    public var subject: String
    public var detail: String
}
