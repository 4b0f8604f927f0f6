import Foundation
import Ledger

/// One transfer a plan proposes. Stored as its `payload` (see `PlanItemPayload`); `apply` reads
/// it back and posts it.
public struct PlanItem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case allocation
        case topUp = "top_up"
        case deduction
        case reversal
        case expiry

        /// Order of kinds at the same instant: money in before money out, expiry last.
        var rank: Int {
            switch self {
            case .allocation: 0
            case .topUp: 1
            case .deduction: 2
            case .reversal: 3
            case .expiry: 4
            }
        }

        /// The kind of transfer the item posts.
        public var transferKind: TransferKind {
            switch self {
            case .allocation: .allocation
            case .topUp: .topUp
            case .deduction: .deduction
            case .reversal: .reversal
            case .expiry: .expiry
            }
        }
    }

    public var kind: Kind
    public var idempotencyKey: String
    public var organisationID: String
    public var effectiveAt: Instant
    /// Allocation, deduction and reversal amounts (a top-up's is in `order`).
    public var credits: Credits?
    /// Allocation cost basis (the plan fee for the period).
    public var price: Money?
    /// Allocation expiry (the period end, unless the plan rolls over).
    public var expiresAt: Instant?
    /// Expiry and reversal: the idempotency key of the transfer that created the grant.
    public var grantKey: String?
    /// Deduction: the work's priority rank (1-5) and the overdraft it may use.
    public var priorityRank: Int?
    public var overdraftLimit: Credits?
    /// Top-up: the completed order being credited.
    public var order: CompletedOrder?
    /// Deduction: usage that occurred inside an earlier applied plan's window but was not charged
    /// then (refused beyond the overdraft limit, or ingested late). It posts after this plan's
    /// other items, so it meets the credits this plan brings, exactly as it would meet credits a
    /// webhook brought in the meantime: whether usage is charged never depends on which path the
    /// money took.
    public var carriedOver: Bool?
    public var references: TransferReferences

    init(
        kind: Kind, idempotencyKey: String, organisationID: String, effectiveAt: Instant, credits: Credits? = nil,
        price: Money? = nil, expiresAt: Instant? = nil, grantKey: String? = nil, priorityRank: Int? = nil,
        overdraftLimit: Credits? = nil, order: CompletedOrder? = nil, carriedOver: Bool? = nil,
        references: TransferReferences = TransferReferences()
    ) {
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.organisationID = organisationID
        self.effectiveAt = effectiveAt
        self.credits = credits
        self.price = price
        self.expiresAt = expiresAt
        self.grantKey = grantKey
        self.priorityRank = priorityRank
        self.overdraftLimit = overdraftLimit
        self.order = order
        self.carriedOver = carriedOver
        self.references = references
    }

    /// What the item is about, for people: the Revolut order, else the cost event, the plan period
    /// or the grant it expires or reverses ("" when none).
    public var subject: String {
        references.revolutOrderID ?? order?.orderID ?? references.costEventID ?? references.planPeriod ?? grantKey ?? ""
    }

    /// The money the item carries: the plan fee of an allocation, the price paid for a top-up.
    public var amount: Money? { price ?? order?.price }

    /// The posting order: by effective time, then kind, then key; usage carried over from an
    /// earlier window after everything else. Deterministic, so the same inputs always give the
    /// same plan and the same ledger.
    static func postingOrder(_ lhs: PlanItem, _ rhs: PlanItem) -> Bool {
        let left = (lhs.carriedOver == true ? 1 : 0, lhs.effectiveAt, lhs.kind.rank, lhs.idempotencyKey)
        let right = (rhs.carriedOver == true ? 1 : 0, rhs.effectiveAt, rhs.kind.rank, rhs.idempotencyKey)
        return left < right
    }

    /// The top-up crediting a completed order.
    static func topUp(_ order: CompletedOrder) -> PlanItem {
        PlanItem(
            kind: .topUp, idempotencyKey: IdempotencyKey.topUp(revolutOrderID: order.orderID),
            organisationID: order.organisationID, effectiveAt: order.completedAt, order: order,
            references: TransferReferences(revolutOrderID: order.orderID, memo: "package \(order.packageID)"))
    }

    /// `postingOrder` of the top-ups of two orders, read from the orders: a top-up is never carried
    /// over, and its key is a fixed prefix before the order id.
    static func topUpOrder(_ lhs: CompletedOrder, _ rhs: CompletedOrder) -> Bool {
        (lhs.completedAt, lhs.orderID) < (rhs.completedAt, rhs.orderID)
    }

    /// The stored form: one text per item, so the plan digest can be taken over what is stored.
    public var payload: String { PlanItemPayload.encode(self) }

    /// Reads an item back from its stored form.
    public init(payload: String) throws {
        self = try PlanItemPayload.decode(payload)
    }
}

/// A stored plan item lacks a field its kind needs: the plan was not written by reconcile.
struct PlanItemMalformed: ClassifiedError {
    let key: String
    let field: String
    var failureClass: FailureClass { .badData }
    var description: String { "plan item \(key) has no \(field); run `credits reconcile` again" }
}

extension PlanItem {
    private func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw PlanItemMalformed(key: idempotencyKey, field: field) }
        return value
    }

    /// Posts this item in `book` (the ledger, or reconcile's simulation of it). The same item in
    /// the same state always does the same thing.
    func post(in book: some PostingBook) throws -> PostingOutcome {
        switch kind {
        case .allocation:
            return try book.postGrant(GrantRequest(
                idempotencyKey: idempotencyKey, organisationID: organisationID, source: .allocation,
                credits: try required(credits, "credits"), price: price, effectiveAt: effectiveAt, expiresAt: expiresAt,
                references: references))
        case .topUp:
            return try book.postCompletedOrder(try required(order, "order"))
        case .deduction:
            return try book.postSpend(SpendRequest(
                idempotencyKey: idempotencyKey, organisationID: organisationID, purpose: .deduction,
                credits: try required(credits, "credits"), effectiveAt: effectiveAt,
                priority: Priority(rank: priorityRank ?? 5) ?? .unprioritised,
                policy: .allowOverdraft(limit: overdraftLimit ?? .zero), references: references))
        case .reversal:
            return try book.postReversal(
                ofGrantCreatedBy: try required(grantKey, "grantKey"), credits: try required(credits, "credits"),
                at: effectiveAt, idempotencyKey: idempotencyKey, references: references)
        case .expiry:
            return try book.postExpiry(
                ofGrantCreatedBy: try required(grantKey, "grantKey"), at: effectiveAt, idempotencyKey: idempotencyKey)
        }
    }
}
