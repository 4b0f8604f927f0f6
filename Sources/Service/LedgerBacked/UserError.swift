import Ledger

/// An expected refusal of a mutation, answered in its payload's `userErrors` (the request itself
/// succeeded): what the caller can correct. Everything else (no access, a busy ledger, a bug) is a
/// GraphQL error with `extensions.code`.
public struct UserError: Error, Codable, Sendable, Hashable {
    public let code: UserErrorCode
    /// The path to the input field at fault, from the mutation's arguments (`["input", "credits"]`);
    /// nil when no single field is.
    public let field: [String]?
    public let message: String

    init(_ code: UserErrorCode, field: MutationInputField?, _ message: String) {
        self.code = code
        self.field = field.map { ["input", $0.rawValue] }
        self.message = message
    }

    /// The refusal of an administrator posting (`allocateCredits`, `topUpCredits`, `adjustCredits`).
    init(_ rejection: AdminPostingRejection) {
        let field: MutationInputField = switch rejection.kind {
        case .idempotencyKeyLength: .idempotencyKey
        case .creditsMustNotBeZero, .creditsMustBePositive: .credits
        case .reasonRequired: .memo
        case .priceMalformed: .priceMinorUnits
        }
        self.init(UserErrorCode(rejection.kind), field: field, rejection.description)
    }

    /// The refusal of a grant control (`voidGrant`, `moveGrantExpiry`).
    init(_ rejection: GrantControlRejection) {
        let field: MutationInputField = switch rejection.kind {
        case .nothingLeftToVoid, .grantUsedUp: .grantId
        case .expiryBeforeNow: .expiresAt
        }
        self.init(UserErrorCode(rejection.kind), field: field, rejection.description)
    }

    /// A ledger posting refusal; nil for one that is not the caller's to correct (an overflow, a
    /// broken invariant), which stays a GraphQL error.
    init?(_ rejection: PostingRejection) {
        let field: MutationInputField?
        switch rejection.kind {
        case .organisationNotFound:
            // The same answer for a foreign organisation as for a missing one (I13).
            self.init(UserErrorCode(.organisationNotFound), field: .organisationId, "Organisation not found.")
            return
        case .amountMustBePositive, .amountAboveTransferLimit, .exceedsSpendable, .exceedsOverdraftLimit,
             .budgetExceeded:
            field = .credits
        case .idempotencyKeyMustNotBeEmpty, .idempotencyKeyReusedWithDifferentContent: field = .idempotencyKey
        case .currencyMustMatchOrganisation: field = .priceMinorUnits
        case .grantNotFound: field = .grantId
        case .expiryMustNotPrecedeGrant, .overflow, .actorRequired: return nil
        }
        self.init(UserErrorCode(rejection.kind), field: field, rejection.description)
    }

    /// The refusal of a live configuration change.
    init(_ rejection: ConfigurationChangeRejection) {
        switch rejection {
        case .idempotencyKeyReusedForAnotherChange:
            self.init(UserErrorCode(.idempotencyKeyReusedWithDifferentContent), field: .idempotencyKey,
                      rejection.description)
        case .budgetScopeNotFound:
            self.init(UserErrorCode(.budgetScopeNotFound), field: .scopeId, rejection.description)
        case .budgetExceedsParent:
            self.init(UserErrorCode(.budgetExceedsParent), field: .limit, rejection.description)
        case .budgetInvalid(let term, _):
            let field: MutationInputField = switch term {
            case .limit: .limit
            case .alertPercents: .alertPercents
            case .financialYearStartMonth: .financialYearStartMonth
            case .range: .periodTo
            }
            self.init(UserErrorCode(.budgetInvalid), field: field, rejection.description)
        }
    }

    static let organisationNotFound = UserError(PostingRejection.organisationNotFound(""))!
}

/// The fields of the mutation inputs a `UserError` can name.
enum MutationInputField: String, Sendable {
    case organisationId, packageId, idempotencyKey, credits, memo, priceMinorUnits
    case reservationId, maxPriority, lowBalanceCredits, lowBalancePercent, runwayDays
    case grantId, expiresAt, reason
    case scopeId, limit, periodFrom, periodTo, financialYearStartMonth, alertPercents
}
