/// The input of `purchaseCreditPackage`.
public struct PurchaseCreditPackageInput: Codable, Sendable {
    public let organisationId: Identifier
    public let packageId: Identifier
    public let idempotencyKey: String
}

/// The input of `allocateCredits`, `topUpCredits` and `adjustCredits`.
public struct CreditPostingInput: Codable, Sendable {
    public let organisationId: Identifier
    /// Positive, except for `adjustCredits`, where negative draws down.
    public let credits: CreditAmount
    public let idempotencyKey: String
    public let memo: String?
    /// The price paid, in the organisation's currency.
    public let priceMinorUnits: MinorUnits?
}

/// The input of `setReservation`.
public struct SetReservationInput: Codable, Sendable {
    public let organisationId: Identifier
    public let reservationId: Identifier
    /// Credits kept back; "0" removes the reservation.
    public let credits: CreditAmount
    /// Investigations of priority 1 (P1) up to this rank may spend the reserve.
    public let maxPriority: Int
    /// A retry with the same key changes nothing and records no second audit row; the key used for a
    /// different change is refused.
    public let idempotencyKey: String
}

/// The input of `setLowBalanceThresholds`.
public struct SetLowBalanceThresholdsInput: Codable, Sendable {
    public let organisationId: Identifier
    public let lowBalanceCredits: CreditAmount?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?
    /// As for `setReservation`.
    public let idempotencyKey: String
}

/// The single `input:` argument every mutation takes.
public struct MutationArguments<Input: Codable & Sendable>: Codable, Sendable {
    public let input: Input
}
