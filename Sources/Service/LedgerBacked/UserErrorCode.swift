import Ledger

/// Refusals only the service's mutations make, beside the ledger's own (`PostingRejection`,
/// `AdminPostingRejection`). docs/CODES.md lists them under "GraphQL mutation refusals".
public enum MutationRefusal: String, Sendable, CaseIterable {
    /// `purchaseCreditPackage`: no package with this id.
    case packageNotFound
    /// `purchaseCreditPackage`: the package has no price in the organisation's currency.
    case packageNotSoldInCurrency
    /// `purchaseCreditPackage`: the key is not 1 to 100 characters of A-Z a-z 0-9 . _ - :
    case idempotencyKeyMalformed
    /// `setReservation`: the reservation id is not 1 to 100 bytes.
    case reservationIdLength
    /// `setReservation`: `maxPriority` is not 1 to 4.
    case maxPriorityOutOfRange
    /// `setReservation`, `setLowBalanceThresholds`: credits below zero.
    case creditsMustNotBeNegative
    /// `setLowBalanceThresholds`: a percentage outside 0 to 100 or runway days outside 0 to 3650.
    case thresholdOutOfRange
    /// `setBudget`: the organisation has no such team or investigation (or the id is another organisation's).
    case budgetScopeNotFound
    /// `setBudget`: a child budget's limit would exceed its parent's for an overlapping period, or a parent's
    /// fall below a child's.
    case budgetExceedsParent
    /// `setBudget`: the terms are not valid (alert percentages, financial year start month, range days).
    case budgetInvalid
}

/// The code of a `UserError`: a ledger refusal's own code, or the service's. One GraphQL enum
/// (`UserErrorCode`) whose values are exactly the codes of docs/CODES.md's posting, administrator posting
/// and mutation refusal tables, so a client branches on a typed value and the catalogue documents each.
public struct UserErrorCode: RawRepresentable, Codable, Sendable, Hashable {
    public let rawValue: String
    /// What the code means, for the enum value's description in the schema.
    public let summary: String

    public init?(rawValue: String) {
        guard let code = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = code
    }

    private init(code: String, summary: String) {
        rawValue = code
        self.summary = summary
    }

    public init(_ code: PostingRejection.Code) {
        let summary = switch code {
        case .amountMustBePositive: "The amount must be positive."
        case .amountAboveTransferLimit: "One transfer moves at most \(Credits.transferMax) credits."
        case .idempotencyKeyMustNotBeEmpty: "An idempotency key is required."
        case .organisationNotFound: "No such organisation, or one the key may not see."
        case .currencyMustMatchOrganisation: "The price is not in the organisation's currency."
        case .idempotencyKeyReusedWithDifferentContent: "The idempotency key was already used for a different request."
        case .exceedsSpendable: "More credits than are spendable."
        case .budgetExceeded: "A hard budget on the spend's path would be passed (rule budget_exceeded)."
        case .exceedsOverdraftLimit: "The overdraft limit would be exceeded."
        case .grantNotFound: "No such grant."
        case .expiryMustNotPrecedeGrant: "The expiry must be after the grant takes effect."
        case .overflow: "The amount would overflow."
        case .actorRequired: "The posting names no actor (a bug in the service, never the caller's to correct)."
        }
        self.init(code: code.rawValue, summary: summary)
    }

    public init(_ code: AdminPostingRejection.Code) {
        let summary = switch code {
        case .idempotencyKeyLength:
            "The idempotency key must be 1 to \(AdminPostingRequest.idempotencyKeyBytesMax) bytes."
        case .creditsMustNotBeZero: "Credits must not be zero."
        case .creditsMustBePositive: "Credits must be positive; only an adjustment may be negative."
        case .reasonRequired: "An administrator's posting needs a reason (memo) saying why."
        case .priceMalformed: "The price is not a whole, non-negative number of minor units."
        }
        self.init(code: code.rawValue, summary: summary)
    }

    public init(_ code: MutationRefusal) {
        let summary = switch code {
        case .packageNotFound: "No credit package with this id."
        case .packageNotSoldInCurrency: "The package has no price in the organisation's currency."
        case .idempotencyKeyMalformed:
            "The purchase's idempotency key must be 1 to 100 characters of A-Z a-z 0-9 . _ - :"
        case .reservationIdLength: "The reservation id must be 1 to 100 bytes."
        case .maxPriorityOutOfRange: "maxPriority must be 1 to 4."
        case .creditsMustNotBeNegative: "Credits must not be negative."
        case .thresholdOutOfRange: "lowBalancePercent must be 0 to 100 and runwayDays 0 to 3650."
        case .budgetScopeNotFound: "The organisation has no such team or investigation for the budget."
        case .budgetExceedsParent: "A child budget may not exceed its parent's limit (the rule organisations.yaml has)."
        case .budgetInvalid: "The budget's terms are not valid (alert percentages, start month, range days)."
        }
        self.init(code: code.rawValue, summary: summary)
    }

    public init(_ code: GrantControlRejection.Code) {
        let summary = switch code {
        case .nothingLeftToVoid: "Nothing is left of the grant to void."
        case .expiryBeforeNow: "An expiry may not move before now."
        case .grantUsedUp: "The grant has no credits left; its expiry cannot move."
        }
        self.init(code: code.rawValue, summary: summary)
    }

    public static let allCases: [UserErrorCode] =
        PostingRejection.Code.allCases.map(UserErrorCode.init)
        + AdminPostingRejection.Code.allCases.map(UserErrorCode.init)
        + GrantControlRejection.Code.allCases.map(UserErrorCode.init)
        + MutationRefusal.allCases.map(UserErrorCode.init)

    public static func == (lhs: UserErrorCode, rhs: UserErrorCode) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = UserErrorCode(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown code \(text)"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
