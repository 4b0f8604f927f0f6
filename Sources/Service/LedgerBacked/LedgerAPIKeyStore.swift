import Ledger

/// API keys stored in the ledger database (`api_keys`, hashes only).
public struct LedgerAPIKeyStore: APIKeyStore {
    let ledger: any LiveLedger

    public init(ledger: any LiveLedger) {
        self.ledger = ledger
    }

    public func principal(for hash: APIKeyHash) async throws -> Principal? {
        let hex = hash.hex
        // On every authenticated request: a point read (LiveLedger.pointRead).
        let record = try await ledger.pointRead { try $0.activeAPIKey(hash: hex) }
        return record.map { $0.organisationID.map { Principal.organisation(id: $0) } ?? .platformAdmin }
    }

    /// Creates a key for `organisationID` (nil: a platform-admin key) and returns its text, which is
    /// shown once and never stored.
    public static func issue(
        in ledger: some APIKeyIssuing, organisationID: String?, label: String, by actor: Actor
    ) throws -> String {
        let (key, hash) = APIKey.generate()
        _ = try ledger.insertAPIKey(hash: hash.hex, organisationID: organisationID, label: label, by: actor)
        return key
    }
}
