/// A hold: credits promised to one job before it runs (its estimate), settled with the actual credits
/// (one deduction, exactly once) or released. While a hold is open and its expiry has not passed, its
/// credits count against the organisation's spendable balance, so two jobs cannot both be promised the
/// last credits. A hold whose expiry passed holds nothing: expiry is read from the clock, never written.
public struct Hold: Sendable, Hashable {
    public let id: Int64
    public let organisationID: String
    public let team: String
    public let investigation: String?
    public let operation: String
    /// The estimate: what the hold promises while it is open.
    public let credits: Credits
    public let idempotencyKey: String
    public let createdAt: Instant
    public let expiresAt: Instant
    /// Who created it (`Actor`'s stored text).
    public let actor: String
    public let state: HoldState
    public let closedAt: Instant?
    /// The actual credits it was settled with; nil unless settled.
    public let settledCredits: Credits?
    /// The deduction that settled it; nil unless settled.
    public let settlementTransferID: Int64?

    /// The longest a hold may last: 7 days from its creation.
    public static let expirySecondsMax: Int64 = 7 * 86_400
    /// How long a hold lasts when the request names no expiry: 1 hour.
    public static let expirySecondsDefault: Int64 = 3_600
    /// How far above its estimate a hold may be settled: 10 % (`settleCeiling`).
    public static let settleTolerancePercent: Int64 = 10
    public static let idempotencyKeyBytesMax = 200
    /// The longest team, investigation or operation name a hold stores.
    public static let referenceBytesMax = 200

    public init(
        id: Int64, organisationID: String, team: String, investigation: String?, operation: String, credits: Credits,
        idempotencyKey: String, createdAt: Instant, expiresAt: Instant, actor: String, state: HoldState,
        closedAt: Instant?, settledCredits: Credits?, settlementTransferID: Int64?
    ) {
        precondition(credits.isPositive, "a hold promises a positive estimate")
        precondition(expiresAt > createdAt, "a hold expires after it is created")
        precondition((state == .settled) == (settlementTransferID != nil), "a settled hold, and only one, names its deduction")
        self.id = id
        self.organisationID = organisationID
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.credits = credits
        self.idempotencyKey = idempotencyKey
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.actor = actor
        self.state = state
        self.closedAt = closedAt
        self.settledCredits = settledCredits
        self.settlementTransferID = settlementTransferID
    }

    /// The most it may be settled with: the estimate plus `settleTolerancePercent`, rounded down to
    /// the micro-credit.
    public var settleCeiling: Credits {
        // At most 10^15 micro-credits times 110: far inside Int64.
        Credits(microcredits: credits.microcredits * (100 + Self.settleTolerancePercent) / 100)
    }

    /// Whether it holds credits at `instant`: open, and its expiry not reached (it frees its credits at
    /// the expiry instant exactly).
    public func isHolding(at instant: Instant) -> Bool {
        state == .open && instant < expiresAt
    }

    /// Its state as a caller sees it at `instant`: open holds past their expiry read as expired.
    public func status(at instant: Instant) -> HoldStatus {
        switch state {
        case .open: instant < expiresAt ? .open : .expired
        case .settled: .settled
        case .released: .released
        }
    }
}

/// A hold's stored state. Expiry is not a state: it is read from the clock (`Hold.status(at:)`).
public enum HoldState: String, Sendable, Hashable, CaseIterable {
    case open, settled, released
}

/// A hold's state as seen at an instant.
public enum HoldStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case open, expired, settled, released
}

/// A request for a hold.
public struct HoldRequest: Sendable, Hashable {
    public var idempotencyKey: String
    public var organisationID: String
    public var team: String
    public var investigation: String?
    public var operation: String
    public var credits: Credits
    /// How long the hold lasts from now: 1 ... `Hold.expirySecondsMax`.
    public var expiresInSeconds: Int64

    public init(
        idempotencyKey: String, organisationID: String, team: String, investigation: String? = nil,
        operation: String, credits: Credits, expiresInSeconds: Int64 = Hold.expirySecondsDefault
    ) {
        self.idempotencyKey = idempotencyKey
        self.organisationID = organisationID
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.credits = credits
        self.expiresInSeconds = expiresInSeconds
    }

    /// What the idempotency key stands for: the same key must come back with the same request.
    var contentHash: String {
        ContentHash.of([
            "hold", organisationID, team, investigation ?? "-", operation, "\(credits.microcredits)",
            "\(expiresInSeconds)",
        ])
    }
}

/// Why a hold could not be created, settled or released. Each case names the rule that was broken;
/// `refused` is the gate's own refusal (402 on the live service).
public enum HoldRejection: ClassifiedError, Equatable {
    case idempotencyKeyLength
    case idempotencyKeyReusedWithDifferentContent(key: String, existingHoldID: Int64)
    case estimateMustBePositive
    case amountAboveTransferLimit
    case expiryOutOfRange
    case referenceLength(field: String)
    case organisationNotFound(String)
    case unknownTeam(String)
    case unknownInvestigation(String)
    case holdNotFound(Int64)
    case holdAlreadySettled(Int64)
    case holdReleased(Int64)
    case settleAboveTolerance(requested: Credits, ceiling: Credits)
    /// The spending rule refused the estimate or the settlement (`SpendBlock`).
    case refused(SpendRefusal)

    public var failureClass: FailureClass { .badData }

    /// Every code a hold refusal can carry, in docs/CODES.md's catalogue.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case idempotencyKeyLength, idempotencyKeyReusedWithDifferentContent, estimateMustBePositive
        case amountAboveTransferLimit, expiryOutOfRange, referenceLength, organisationNotFound, unknownTeam
        case unknownInvestigation, holdNotFound, holdAlreadySettled, holdReleased, settleAboveTolerance
        case exceedsSpendable
    }

    public var kind: Code {
        switch self {
        case .idempotencyKeyLength: .idempotencyKeyLength
        case .idempotencyKeyReusedWithDifferentContent: .idempotencyKeyReusedWithDifferentContent
        case .estimateMustBePositive: .estimateMustBePositive
        case .amountAboveTransferLimit: .amountAboveTransferLimit
        case .expiryOutOfRange: .expiryOutOfRange
        case .referenceLength: .referenceLength
        case .organisationNotFound: .organisationNotFound
        case .unknownTeam: .unknownTeam
        case .unknownInvestigation: .unknownInvestigation
        case .holdNotFound: .holdNotFound
        case .holdAlreadySettled: .holdAlreadySettled
        case .holdReleased: .holdReleased
        case .settleAboveTolerance: .settleAboveTolerance
        case .refused: .exceedsSpendable
        }
    }

    public var description: String {
        switch self {
        case .idempotencyKeyLength: "the idempotency key must be 1 to \(Hold.idempotencyKeyBytesMax) bytes"
        case .idempotencyKeyReusedWithDifferentContent(let key, let id):
            "idempotency key \(key) was already used for hold \(id) with a different request"
        case .estimateMustBePositive: "the estimate must be positive credits"
        case .amountAboveTransferLimit: "one hold promises at most \(Credits.transferMax) credits (Credits.transferMax)"
        case .expiryOutOfRange: "expires_in_seconds must be 1 to \(Hold.expirySecondsMax) (7 days)"
        case .referenceLength(let field): "\(field) must be 1 to \(Hold.referenceBytesMax) bytes"
        case .organisationNotFound(let id): "no organisation \(id)"
        case .unknownTeam(let team): "team \(team) is not configured for the organisation"
        case .unknownInvestigation(let id): "investigation \(id) is not configured for the organisation"
        case .holdNotFound(let id): "no hold \(id)"
        case .holdAlreadySettled(let id): "hold \(id) was already settled with other credits; it settles once"
        case .holdReleased(let id): "hold \(id) was released; it can no longer be settled"
        case .settleAboveTolerance(let requested, let ceiling):
            "\(requested) credits is above what the hold may be settled with (\(ceiling): the estimate plus \(Hold.settleTolerancePercent) %)"
        case .refused(let refusal):
            "\(refusal.requested) credits requested but only \(refusal.spendable) spendable (\(refusal.rule.rawValue))"
        }
    }
}

/// The answer to a hold request: the hold, and whether this request created it or found it (a retry
/// with the same idempotency key and request).
public struct HoldOutcome: Sendable, Hashable {
    public let hold: Hold
    public let created: Bool
}

/// A settled hold and the deduction that settled it; `posted` is false for a repeated settle.
public struct HoldSettlement: Sendable, Hashable {
    public let hold: Hold
    public let transfer: Transfer
    public let posted: Bool
}
