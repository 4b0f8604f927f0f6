/// A stored API key of the live service. Only the SHA-256 of the key is kept: the key itself is shown
/// once by `credits keys create` and never stored.
public struct APIKeyRecord: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the full key text.
    public let keyHash: String
    /// The organisation the key speaks for; nil for a platform-admin key.
    public let organisationID: String?
    public let label: String
    public let createdAt: Instant
    public let revokedAt: Instant?

    public var isAdmin: Bool { organisationID == nil }
}

extension LedgerTransaction {
    /// Stores a new key hash for `organisationID` (nil: a platform-admin key).
    public func insertAPIKey(hash: String, organisationID: String?, label: String) throws -> APIKeyRecord {
        try APIKeyQueries.insert(hash: hash, organisationID: organisationID, label: label, now: now, on: sql)
    }

    /// Revokes a key; true if it was active.
    public func revokeAPIKey(hash: String) throws -> Bool {
        try APIKeyQueries.revoke(hash: hash, now: now, on: sql)
    }
}

/// Where `credits keys create` stores a key, on either store: `LedgerDatabase` (SQLite) or `PostgresStore`.
public protocol APIKeyIssuing {
    /// Stores a new key hash for `organisationID` (nil: a platform-admin key) in one transaction; throws
    /// `PostingRejection.organisationNotFound` for an unknown organisation.
    func insertAPIKey(hash: String, organisationID: String?, label: String, by actor: Actor) throws -> APIKeyRecord
}

extension LedgerDatabase: APIKeyIssuing {
    public func insertAPIKey(hash: String, organisationID: String?, label: String, by actor: Actor) throws
        -> APIKeyRecord
    {
        try write(as: actor) { try $0.insertAPIKey(hash: hash, organisationID: organisationID, label: label) }
    }
}

extension PostgresStore: APIKeyIssuing {
    public func insertAPIKey(hash: String, organisationID: String?, label: String, by actor: Actor) throws
        -> APIKeyRecord
    {
        let now = clock()
        return try transaction("BEGIN") {
            try APIKeyQueries.insert(hash: hash, organisationID: organisationID, label: label, now: now, on: $0)
        }
    }
}

/// The API keys' writes, in portable SQL (either store).
enum APIKeyQueries {
    /// See `LedgerTransaction.insertAPIKey`.
    static func insert(
        hash: String, organisationID: String?, label: String, now: Instant, on sql: some SQLSession
    ) throws -> APIKeyRecord {
        if let organisationID {
            guard try sql.integer("SELECT 1 FROM organisations WHERE id = ?", [.text(organisationID)]) != nil
            else { throw PostingRejection.organisationNotFound(organisationID) }
        }
        try sql.execute(
            "INSERT INTO api_keys (key_hash, organisation_id, label, created_at) VALUES (?, ?, ?, ?)",
            [.text(hash), SQLValue(organisationID), .text(label), .integer(now.millisecondsSinceEpoch)])
        return APIKeyRecord(keyHash: hash, organisationID: organisationID, label: label, createdAt: now, revokedAt: nil)
    }

    /// See `LedgerTransaction.revokeAPIKey`.
    static func revoke(hash: String, now: Instant, on sql: some SQLSession) throws -> Bool {
        try sql.integer(
            "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL RETURNING 1",
            [.integer(now.millisecondsSinceEpoch), .text(hash)]) != nil
    }
}

extension LedgerReader {
    /// The key with this hash if it exists and is not revoked.
    public func activeAPIKey(hash: String) throws -> APIKeyRecord? {
        try PointQueries.activeAPIKey(hash: hash, on: sqlReadingNoBalances)
    }
}
