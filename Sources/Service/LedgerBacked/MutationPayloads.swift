/// `allocateCredits`, `topUpCredits`, `adjustCredits`: the transfer posted, or why not.
public struct CreditPostingPayload: Codable, Sendable {
    public let transaction: TransactionView?
    public let userErrors: [UserError]
}

/// `setReservation`, `setLowBalanceThresholds`: the organisation as it now is, or why nothing changed.
public struct OrganisationPayload: Sendable {
    public let organisation: OrganisationView?
    public let userErrors: [UserError]
}

/// `purchaseCreditPackage`: the purchase and its checkout, or why not.
public struct PurchaseCreditPackagePayload: Codable, Sendable {
    public let purchase: PurchaseView?
    public let userErrors: [UserError]
}
