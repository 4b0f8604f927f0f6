import GRDB

extension Schema {
    /// `api_keys`: one row per key; a key is either an organisation's or a platform admin's, never both.
    static func createAPIKeys(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE api_keys (
                key_hash TEXT PRIMARY KEY NOT NULL CHECK (length(key_hash) = 64),
                organisation_id TEXT REFERENCES organisations(id),
                label TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX api_keys_by_organisation ON api_keys(organisation_id);
            """)
    }
}
