import GRDB

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
        if let organisationID {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM organisations WHERE id = ?", arguments: [organisationID])
                != nil
            else { throw PostingRejection.organisationNotFound(organisationID) }
        }
        try db.execute(
            sql: "INSERT INTO api_keys (key_hash, organisation_id, label, created_at) VALUES (?, ?, ?, ?)",
            arguments: [hash, organisationID, label, now.millisecondsSinceEpoch])
        return APIKeyRecord(keyHash: hash, organisationID: organisationID, label: label, createdAt: now, revokedAt: nil)
    }

    /// Revokes a key; true if it was active.
    public func revokeAPIKey(hash: String) throws -> Bool {
        try db.execute(
            sql: "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL",
            arguments: [now.millisecondsSinceEpoch, hash])
        return connection.changesCount == 1
    }
}

extension LedgerReader {
    /// The key with this hash if it exists and is not revoked.
    public func activeAPIKey(hash: String) throws -> APIKeyRecord? {
        try PointQueries.activeAPIKey(hash: hash, on: db)
    }
}
