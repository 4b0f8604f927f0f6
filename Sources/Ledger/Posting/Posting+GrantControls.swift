import GRDB

/// An administrator's control over one grant (`credits ledger void-grant`, `move-expiry`): each exactly
/// once under the administrator's idempotency key, with a reason, recorded with the transaction's actor.
public enum GrantControlRejection: ClassifiedError, Equatable {
    /// Nothing is left of the grant to void (spent, expired or voided already).
    case nothingLeftToVoid(grantID: Int64)
    /// A grant's expiry may move later or earlier, but never before now.
    case expiryBeforeNow(requested: Instant, now: Instant)
    /// The grant's credits are all gone (spent, expired or voided): its expiry no longer means anything.
    case grantUsedUp(grantID: Int64)

    public var failureClass: FailureClass { .badData }

    /// Every code a grant control's refusal can carry, in docs/CODES.md's catalogue.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case nothingLeftToVoid, expiryBeforeNow, grantUsedUp
    }

    public var kind: Code {
        switch self {
        case .nothingLeftToVoid: .nothingLeftToVoid
        case .expiryBeforeNow: .expiryBeforeNow
        case .grantUsedUp: .grantUsedUp
        }
    }

    public var description: String {
        switch self {
        case .nothingLeftToVoid(let id): "nothing is left of grant \(id) to void [nothingLeftToVoid]"
        case .expiryBeforeNow(let requested, let now):
            "an expiry may not move before now (\(requested.iso8601) is before \(now.iso8601)) [expiryBeforeNow]"
        case .grantUsedUp(let id): "grant \(id) has no credits left; its expiry cannot move [grantUsedUp]"
        }
    }
}

/// One move of a grant's expiry, as recorded (`grant_expiry_moves`, append-only).
public struct GrantExpiryMove: Sendable, Hashable, Codable {
    public let id: Int64
    public let grantID: Int64
    public let organisationID: String
    /// nil: the grant did not expire / does not expire.
    public let from: Instant?
    public let to: Instant?
    public let movedAt: Instant
    public let actor: Actor
    public let reason: String
    public let idempotencyKey: String
}

extension LedgerTransaction {
    /// Voids what is left of one grant: a reversal of its unspent credits to the issuance account,
    /// effective now, with the reason as its memo. The same key again is the same void (`exists`), even
    /// though nothing is left by then.
    public func voidGrant(grantID: Int64, idempotencyKey: String, reason: String) throws -> Posting {
        try Self.checkControl(idempotencyKey: idempotencyKey, reason: reason)
        let hash = ContentHash.of(["void-grant", String(grantID), reason])
        guard let grant = try reader.grant(id: grantID) else {
            if let existing = try existingTransfer(key: idempotencyKey, hash: hash) { return existing }
            throw PostingRejection.grantNotFound(grantID)
        }
        try lockOrganisation(grant.organisationID)
        if let existing = try existingTransfer(key: idempotencyKey, hash: hash) { return existing }
        guard grant.remaining.isPositive else { throw GrantControlRejection.nothingLeftToVoid(grantID: grantID) }
        return try drawFromOneGrant(
            grant, credits: grant.remaining, kind: .reversal, credit: .issuance, key: idempotencyKey, hash: hash,
            effectiveAt: now, references: TransferReferences(memo: reason))
    }

    /// Moves a grant's expiry to `expiresAt` (nil: it never expires), later or earlier but never before
    /// now, and records the move with its actor and reason. No credits move, so it is not a transfer: the
    /// move is its own append-only record, and the grant burns down by its new expiry from then on. The
    /// same key again with the same move changes nothing and answers the first record.
    public func moveGrantExpiry(
        grantID: Int64, to expiresAt: Instant?, idempotencyKey: String, reason: String
    ) throws -> (move: GrantExpiryMove, status: Posting.Status) {
        try Self.checkControl(idempotencyKey: idempotencyKey, reason: reason)
        // Judged under the organisation's lock, as every draw from the grant is (`PostingSession.lockOrganisation`).
        if let grant = try reader.grant(id: grantID) { try lockOrganisation(grant.organisationID) }
        let result = try GrantExpiryMoves.move(
            grantID: grantID, to: expiresAt, idempotencyKey: idempotencyKey, reason: reason, actor: actor, now: now,
            on: sql)
        // The organisation's spending state holds the grant's old expiry: read it afresh.
        if result.status == .posted { postingState.forget(result.move.organisationID) }
        return result
    }

    /// The rules every grant control shares with the other hand postings: an idempotency key of the
    /// administrator's length, and a reason.
    static func checkControl(idempotencyKey: String, reason: String) throws {
        guard (1...AdminPostingRequest.idempotencyKeyBytesMax).contains(idempotencyKey.utf8.count) else {
            throw AdminPostingRejection.idempotencyKeyLength(max: AdminPostingRequest.idempotencyKeyBytesMax)
        }
        guard reason.contains(where: { !$0.isWhitespace }) else { throw AdminPostingRejection.reasonRequired }
    }
}

extension LedgerReader {
    /// The expiry move recorded under an administrator's idempotency key, if any.
    public func grantExpiryMove(idempotencyKey: String) throws -> GrantExpiryMove? {
        try GrantExpiryMoves.move(idempotencyKey: idempotencyKey, on: sql)
    }

    /// Every move of a grant's expiry, oldest first.
    public func grantExpiryMoves(ofGrant grantID: Int64) throws -> [GrantExpiryMove] {
        try GrantExpiryMoves.moves(ofGrant: grantID, on: sql)
    }
}

/// Where `credits ledger move-expiry` records a move, on either store: `LedgerDatabase` (SQLite) or
/// `PostgresStore`, by the same rules (`GrantExpiryMoves`).
public protocol GrantExpiryMoving {
    /// Moves the grant's expiry for `actor`, in one transaction (`LedgerTransaction.moveGrantExpiry`).
    func moveGrantExpiry(
        grantID: Int64, to expiresAt: Instant?, idempotencyKey: String, reason: String, by actor: Actor
    ) throws -> (move: GrantExpiryMove, status: Posting.Status)
}

extension LedgerDatabase: GrantExpiryMoving {
    public func moveGrantExpiry(
        grantID: Int64, to expiresAt: Instant?, idempotencyKey: String, reason: String, by actor: Actor
    ) throws -> (move: GrantExpiryMove, status: Posting.Status) {
        try write(as: actor) {
            try $0.moveGrantExpiry(grantID: grantID, to: expiresAt, idempotencyKey: idempotencyKey, reason: reason)
        }
    }
}

extension PostgresStore: GrantExpiryMoving {
    /// The same transaction as on SQLite (`write`): the grant's remaining credits and its new expiry are
    /// judged and written under its organisation's lock, which every draw from the grant takes first.
    public func moveGrantExpiry(
        grantID: Int64, to expiresAt: Instant?, idempotencyKey: String, reason: String, by actor: Actor
    ) throws -> (move: GrantExpiryMove, status: Posting.Status) {
        try write(as: actor) {
            try $0.moveGrantExpiry(grantID: grantID, to: expiresAt, idempotencyKey: idempotencyKey, reason: reason)
        }
    }
}

/// Moves of grants' expiries and their reads, in portable SQL (either store).
enum GrantExpiryMoves {
    /// See `LedgerTransaction.moveGrantExpiry`.
    static func move(
        grantID: Int64, to expiresAt: Instant?, idempotencyKey: String, reason: String, actor: Actor, now: Instant,
        on sql: some SQLSession
    ) throws -> (move: GrantExpiryMove, status: Posting.Status) {
        try LedgerTransaction.checkControl(idempotencyKey: idempotencyKey, reason: reason)
        if let existing = try move(idempotencyKey: idempotencyKey, on: sql) {
            guard existing.grantID == grantID, existing.to == expiresAt, existing.reason == reason else {
                throw PostingRejection.idempotencyKeyReusedWithDifferentContent(
                    key: idempotencyKey, existingTransferID: existing.id)
            }
            return (existing, .exists)
        }
        guard let grant = try LedgerReader.grant(id: grantID, on: sql) else { throw PostingRejection.grantNotFound(grantID) }
        if let expiresAt, expiresAt < now { throw GrantControlRejection.expiryBeforeNow(requested: expiresAt, now: now) }
        guard grant.remaining.isPositive else { throw GrantControlRejection.grantUsedUp(grantID: grantID) }
        guard actor.mayPost else { throw PostingRejection.actorRequired }
        try sql.execute(
            "UPDATE grants SET expires_at = ? WHERE id = ?", [SQLValue(expiresAt?.millisecondsSinceEpoch), .integer(grantID)])
        try sql.execute(
            """
            INSERT INTO grant_expiry_moves (grant_id, organisation_id, from_expires_at, to_expires_at, moved_at,
                actor, reason, idempotency_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.integer(grantID), .text(grant.organisationID), SQLValue(grant.expiresAt?.millisecondsSinceEpoch),
             SQLValue(expiresAt?.millisecondsSinceEpoch), .integer(now.millisecondsSinceEpoch), .text(actor.storedText),
             .text(reason), .text(idempotencyKey)])
        guard let move = try move(idempotencyKey: idempotencyKey, on: sql) else {
            preconditionFailure("the move was recorded above, in this transaction")
        }
        return (move, .posted)
    }

    /// See `LedgerReader.grantExpiryMove(idempotencyKey:)`.
    static func move(idempotencyKey: String, on sql: some SQLSession) throws -> GrantExpiryMove? {
        try sql.record("\(select) WHERE idempotency_key = ?", [.text(idempotencyKey)]).map(move)
    }

    /// See `LedgerReader.grantExpiryMoves(ofGrant:)`.
    static func moves(ofGrant grantID: Int64, on sql: some SQLSession) throws -> [GrantExpiryMove] {
        try sql.records("\(select) WHERE grant_id = ? ORDER BY id", [.integer(grantID)]).map(move)
    }

    private static let select = """
        SELECT id, grant_id, organisation_id, from_expires_at, to_expires_at, moved_at, actor, reason, idempotency_key
        FROM grant_expiry_moves
        """

    private static func move(_ row: SQLRecord) -> GrantExpiryMove {
        guard let actor = Actor(storedText: row.text(6)) else {
            preconditionFailure("grant expiry move \(row.int64(0)) holds an actor the schema should refuse")
        }
        return GrantExpiryMove(
            id: row.int64(0), grantID: row.int64(1), organisationID: row.text(2),
            from: row.int64OrNil(3).map(Instant.init(millisecondsSinceEpoch:)),
            to: row.int64OrNil(4).map(Instant.init(millisecondsSinceEpoch:)),
            movedAt: Instant(millisecondsSinceEpoch: row.int64(5)), actor: actor, reason: row.text(7),
            idempotencyKey: row.text(8))
    }
}
