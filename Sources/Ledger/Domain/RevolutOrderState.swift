/// The state of a Revolut order (or report row), as every path reads it: ingest of API exports and
/// report CSVs, the webhook's fetched order, and reconcile's payments match. One vocabulary, so a
/// `declined` row staged by ingest is the documented final state it is everywhere, never
/// `orderStateUnknown` in one place and known in another.
///
/// The Merchant API's order states are `pending`, `processing`, `authorised`, `completed`,
/// `cancelled` and `failed`; report CSVs add `declined` and `reverted` (shared/revolut.md 3.2, 5).
/// Comparison is case-insensitive (legacy exports and CSVs are upper case). Anything else is kept as
/// `.unknown` with its text, for a person to look at, rather than refused.
public enum RevolutOrderState: Sendable, Hashable {
    case pending, processing, authorised, completed, cancelled, failed, declined, reverted
    case unknown(String)

    /// Reads a state word from any source, case-insensitively.
    public init(normalising raw: String) {
        switch raw.lowercased() {
        case "pending": self = .pending
        case "processing": self = .processing
        case "authorised": self = .authorised
        case "completed": self = .completed
        case "cancelled": self = .cancelled
        case "failed": self = .failed
        case "declined": self = .declined
        case "reverted": self = .reverted
        default: self = .unknown(raw)
        }
    }

    /// The stored word: lower case; an unknown state as given, lower-cased.
    public var word: String {
        switch self {
        case .pending: "pending"
        case .processing: "processing"
        case .authorised: "authorised"
        case .completed: "completed"
        case .cancelled: "cancelled"
        case .failed: "failed"
        case .declined: "declined"
        case .reverted: "reverted"
        case .unknown(let raw): raw.lowercased()
        }
    }

    /// Still open: the order may yet complete, so it is waited for (and aged), not judged.
    public var isOpen: Bool {
        switch self {
        case .pending, .processing, .authorised: true
        default: false
        }
    }

    /// Final without money received: nothing to credit, nothing to review.
    public var isFinalUnpaid: Bool {
        switch self {
        case .cancelled, .failed, .declined, .reverted: true
        default: false
        }
    }

    /// A state Revolut documents (every case but `.unknown`).
    public var isDocumented: Bool {
        if case .unknown = self { return false }
        return true
    }
}

/// The type of a Revolut order (or report row), as every path reads it. A settlement report's
/// `SETTLEMENT` row is the settled payment, so it reads as `.payment`.
public enum RevolutOrderType: Sendable, Hashable {
    case payment, paymentRequest, refund, chargeback, chargebackReversal, creditReimbursement
    /// A type we do not know (kept, so the order is flagged rather than lost).
    case unknown(String)

    /// Reads a type word from any source, case-insensitively.
    public init(normalising raw: String) {
        switch raw.lowercased() {
        case "payment", "settlement": self = .payment
        case "payment_request": self = .paymentRequest
        case "refund": self = .refund
        case "chargeback": self = .chargeback
        case "chargeback_reversal": self = .chargebackReversal
        case "credit_reimbursement": self = .creditReimbursement
        default: self = .unknown(raw)
        }
    }

    /// The stored word: lower case; an unknown type as given.
    public var word: String {
        switch self {
        case .payment: "payment"
        case .paymentRequest: "payment_request"
        case .refund: "refund"
        case .chargeback: "chargeback"
        case .chargebackReversal: "chargeback_reversal"
        case .creditReimbursement: "credit_reimbursement"
        case .unknown(let raw): raw
        }
    }
}
