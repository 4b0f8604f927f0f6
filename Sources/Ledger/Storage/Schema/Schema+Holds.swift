import GRDB

extension Schema {
    /// Holds (`Hold`): credits promised to one job before it runs, settled with the actual credits or
    /// released. A hold is open until it is settled or released; an open hold whose `expires_at` has
    /// passed holds nothing (spendable balances count open holds with `expires_at > now`), so expiry
    /// needs no sweeper and no write.
    ///
    /// The schema keeps the states honest whatever the Swift code does: the state decides which closing
    /// columns are filled; a settled hold names the one deduction that settled it (unique, so no transfer
    /// settles two holds); a closed hold never changes again and no hold is ever deleted.
    static func createHolds(_ db: Database) throws {
        let actorCheck = """
            length(%@) BETWEEN 1 AND \(Actor.storedTextBytesMax) AND %@ <> '\(Actor.unknownBeforeAuditText)'
            """
        try db.execute(sql: """
            CREATE TABLE holds (
                id INTEGER PRIMARY KEY,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                team TEXT NOT NULL CHECK (length(team) BETWEEN 1 AND \(Hold.referenceBytesMax)),
                investigation TEXT CHECK (length(investigation) BETWEEN 1 AND \(Hold.referenceBytesMax)),
                operation TEXT NOT NULL CHECK (length(operation) BETWEEN 1 AND \(Hold.referenceBytesMax)),
                credits INTEGER NOT NULL CHECK (credits > 0 AND credits <= \(Credits.transferMax.microcredits)),
                idempotency_key TEXT NOT NULL UNIQUE
                    CHECK (length(idempotency_key) BETWEEN 1 AND \(Hold.idempotencyKeyBytesMax)),
                content_hash TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
                    CHECK (expires_at > created_at AND expires_at - created_at <= \(Hold.expirySecondsMax * 1000)),
                actor TEXT NOT NULL CHECK (\(String(format: actorCheck, "actor", "actor"))),
                state TEXT NOT NULL CHECK (state IN ('open', 'settled', 'released')),
                closed_at INTEGER,
                closed_by TEXT CHECK (\(String(format: actorCheck, "closed_by", "closed_by"))),
                settled_credits INTEGER CHECK (settled_credits > 0),
                settlement_transfer_id INTEGER UNIQUE REFERENCES transfers(id),
                CHECK ((state = 'open') = (closed_at IS NULL)),
                CHECK ((state = 'open') = (closed_by IS NULL)),
                CHECK ((state = 'settled') = (settled_credits IS NOT NULL)),
                CHECK ((state = 'settled') = (settlement_transfer_id IS NOT NULL))
            ) STRICT;
            CREATE INDEX holds_open ON holds(organisation_id, expires_at) WHERE state = 'open';
            CREATE TRIGGER holds_close_once BEFORE UPDATE ON holds
            WHEN OLD.state <> 'open'
                OR NEW.id IS NOT OLD.id OR NEW.organisation_id IS NOT OLD.organisation_id
                OR NEW.team IS NOT OLD.team OR NEW.investigation IS NOT OLD.investigation
                OR NEW.operation IS NOT OLD.operation OR NEW.credits IS NOT OLD.credits
                OR NEW.idempotency_key IS NOT OLD.idempotency_key OR NEW.content_hash IS NOT OLD.content_hash
                OR NEW.created_at IS NOT OLD.created_at OR NEW.expires_at IS NOT OLD.expires_at
                OR NEW.actor IS NOT OLD.actor
            BEGIN SELECT RAISE(ABORT, 'a hold only closes, once: settled or released'); END;
            CREATE TRIGGER holds_are_never_deleted BEFORE DELETE ON holds
            BEGIN SELECT RAISE(ABORT, 'holds are never deleted'); END;
            """)
    }
}
