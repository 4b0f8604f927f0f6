/// A completed Revolut payment tied to an organisation and a credit package.
public struct CompletedOrder: Sendable, Hashable, Codable {
    public var orderID: String
    public var organisationID: String
    public var packageID: String
    public var credits: Credits
    public var price: Money
    public var completedAt: Instant
    public var expiresAt: Instant?

    public init(
        orderID: String, organisationID: String, packageID: String, credits: Credits, price: Money,
        completedAt: Instant, expiresAt: Instant?
    ) {
        self.orderID = orderID
        self.organisationID = organisationID
        self.packageID = packageID
        self.credits = credits
        self.price = price
        self.completedAt = completedAt
        self.expiresAt = expiresAt
    }
}

extension LedgerTransaction {
    /// Credits a completed order exactly once. If the order was already credited (by this path or
    /// any other, whatever the details it was credited with), returns that top-up as `exists`.
    /// The schema's unique index on top-ups per order backs this up.
    public func creditCompletedOrder(_ order: CompletedOrder) throws -> Posting {
        if let existing = try reader.topUp(forRevolutOrder: order.orderID) {
            return Posting(status: .exists, transfer: existing, intoReserve: .zero, overdraft: .zero)
        }
        return try grant(order.grantRequest)
    }
}

extension CompletedOrder {
    /// The top-up grant that credits this order.
    var grantRequest: GrantRequest {
        GrantRequest(
            idempotencyKey: IdempotencyKey.topUp(revolutOrderID: orderID), organisationID: organisationID,
            source: .topUp, credits: credits, price: price, effectiveAt: completedAt, expiresAt: expiresAt,
            references: TransferReferences(revolutOrderID: orderID, memo: "package \(packageID)"))
    }
}
