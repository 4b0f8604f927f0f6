import Foundation

// Voiding a staged cost event: an operator's decision that an event must never be charged (a
// producer's bug, a test record, credits no transfer can carry). Staged events are the input
// record and are never edited or deleted; a void is a separate, append-only row that says who
// decided, when and why, and reconcile leaves voided events out of every plan.

/// One voided cost event, as recorded.
public struct CostEventVoid: Sendable, Hashable, Codable {
    public let eventID: String
    public let organisationID: String
    /// The staged event's credits, so the record says what was given up.
    public let credits: Credits
    /// The transaction's `now` when the void was recorded.
    public let voidedAt: Instant
    /// Who decided: `operator:<login name>` from the command line.
    public let actor: String
    /// Why, in the operator's words.
    public let reason: String
}

/// What `voidCostEvent` did.
public enum CostEventVoidStatus: String, Sendable, Hashable, Codable {
    /// Recorded now.
    case voided
    /// Voided before (the first record stands, whatever this call's reason).
    case alreadyVoided = "already_voided"
}

/// Why an event cannot be voided. Each case names the rule.
public enum CostEventVoidRefusal: ClassifiedError, Equatable {
    /// No staged event has this id.
    case eventNotStaged(eventID: String)
    /// The event was charged; a charge is corrected with an adjustment, not by voiding its input.
    case eventAlreadyCharged(eventID: String, transferID: Int64)
    /// A void must say why (1 to `reasonBytesMax` bytes, not only spaces) and who.
    case reasonRequired
    case actorRequired

    /// Longest reason stored.
    public static let reasonBytesMax = 1000

    public var failureClass: FailureClass {
        switch self {
        case .eventNotStaged: .inputMissing
        case .eventAlreadyCharged, .reasonRequired, .actorRequired: .badData
        }
    }

    public var code: String {
        switch self {
        case .eventNotStaged: "eventNotStaged"
        case .eventAlreadyCharged: "eventAlreadyCharged"
        case .reasonRequired: "reasonRequired"
        case .actorRequired: "actorRequired"
        }
    }

    public var description: String {
        switch self {
        case .eventNotStaged(let id): "no staged cost event \(id) [\(code)]"
        case .eventAlreadyCharged(let id, let transfer):
            "cost event \(id) was already charged by transfer \(transfer); correct it with "
                + "`credits ledger adjust`, not by voiding [\(code)]"
        case .reasonRequired:
            "a void needs a reason of 1 to \(Self.reasonBytesMax) bytes [\(code)]"
        case .actorRequired: "a void needs the name of who decided it [\(code)]"
        }
    }
}

extension LedgerTransaction {
    /// Voids a staged, uncharged cost event, exactly once: the first call records who, when and
    /// why; a later call for the same event records nothing and returns the first record.
    public func voidCostEvent(
        eventID: String, actor: String, reason: String
    ) throws -> (status: CostEventVoidStatus, void: CostEventVoid) {
        // Judged under the organisation's lock, as a charge of the event is (`PostingSession.lockOrganisation`).
        if let organisationID = try session.record(
            "SELECT organisation_id FROM cost_events WHERE event_id = ?", [.text(eventID)])?.text(0) {
            try lockOrganisation(organisationID)
        }
        return try CostEventVoidQueries.void(eventID: eventID, actor: actor, reason: reason, now: now, on: sql)
    }
}

extension LedgerReader {
    /// The void of one event, if it was voided.
    public func costEventVoid(eventID: String) throws -> CostEventVoid? {
        try CostEventVoidQueries.costEventVoid(eventID: eventID, on: sql)
    }
}

/// Where `credits ledger void-event` records a void, on either store: `LedgerDatabase` (SQLite) or
/// `PostgresStore`, by the same rules (`CostEventVoidQueries`).
public protocol CostEventVoiding {
    /// Voids a staged, uncharged cost event for `actor`, in one transaction (`LedgerTransaction.voidCostEvent`).
    func voidCostEvent(eventID: String, reason: String, by actor: Actor) throws
        -> (status: CostEventVoidStatus, void: CostEventVoid)
}

extension LedgerDatabase: CostEventVoiding {
    public func voidCostEvent(eventID: String, reason: String, by actor: Actor) throws
        -> (status: CostEventVoidStatus, void: CostEventVoid)
    {
        try write(as: actor) { try $0.voidCostEvent(eventID: eventID, actor: actor.storedText, reason: reason) }
    }
}

extension PostgresStore: CostEventVoiding {
    /// The same transaction as on SQLite (`write`): the event's "not charged" is judged under its
    /// organisation's lock, which every charge of the event takes first.
    public func voidCostEvent(eventID: String, reason: String, by actor: Actor) throws
        -> (status: CostEventVoidStatus, void: CostEventVoid)
    {
        try write(as: actor) { try $0.voidCostEvent(eventID: eventID, actor: actor.storedText, reason: reason) }
    }
}

/// Voids and their reads, in portable SQL (either store).
enum CostEventVoidQueries {
    /// See `LedgerTransaction.voidCostEvent`.
    static func void(
        eventID: String, actor: String, reason: String, now: Instant, on sql: some SQLSession
    ) throws -> (status: CostEventVoidStatus, void: CostEventVoid) {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= CostEventVoidRefusal.reasonBytesMax else {
            throw CostEventVoidRefusal.reasonRequired
        }
        guard !actor.isEmpty, actor.utf8.count <= 200 else { throw CostEventVoidRefusal.actorRequired }
        if let existing = try costEventVoid(eventID: eventID, on: sql) { return (.alreadyVoided, existing) }
        guard try sql.integer("SELECT 1 FROM cost_events WHERE event_id = ?", [.text(eventID)]) != nil
        else { throw CostEventVoidRefusal.eventNotStaged(eventID: eventID) }
        if let transferID = try deductionCharging(costEventID: eventID, on: sql) {
            throw CostEventVoidRefusal.eventAlreadyCharged(eventID: eventID, transferID: transferID)
        }
        try sql.execute(
            "INSERT INTO cost_event_voids (event_id, voided_at, actor, reason) VALUES (?, ?, ?, ?)",
            [.text(eventID), .integer(now.millisecondsSinceEpoch), .text(actor), .text(reason)])
        guard let void = try costEventVoid(eventID: eventID, on: sql) else {
            preconditionFailure("a void just inserted reads back")
        }
        return (.voided, void)
    }

    /// See `LedgerReader.costEventVoid(eventID:)`.
    static func costEventVoid(eventID: String, on sql: some SQLSession) throws -> CostEventVoid? {
        try sql.record(
            """
            SELECT v.event_id, e.organisation_id, e.credits, v.voided_at, v.actor, v.reason
            FROM cost_event_voids v JOIN cost_events e ON e.event_id = v.event_id
            WHERE v.event_id = ?
            """,
            [.text(eventID)]
        ).map { row in
            CostEventVoid(
                eventID: row.text(0), organisationID: row.text(1), credits: Credits(microcredits: row.int64(2)),
                voidedAt: Instant(millisecondsSinceEpoch: row.int64(3)), actor: row.text(4), reason: row.text(5))
        }
    }

    /// The deduction that charged the event, if one did (`LedgerReader.deductionCharging`).
    static func deductionCharging(costEventID: String, on sql: some SQLSession) throws -> Int64? {
        try sql.integer(
            """
            SELECT id FROM transfers WHERE kind = 'deduction' AND cost_event_id = ?1
            UNION ALL SELECT transfer_id FROM usage_charges WHERE event_id = ?1
            """,
            [.text(costEventID)])
    }
}
