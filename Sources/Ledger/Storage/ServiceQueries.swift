import GRDB

extension LedgerReader {
    /// The priority of an organisation's investigation, or nil if it has no such investigation.
    /// The live gate uses it to decide which reservations a spend may use.
    public func investigationPriority(organisationID: String, investigationID: String) throws -> Priority? {
        try Int.fetchOne(
            db, cached: "SELECT priority FROM investigations WHERE organisation_id = ? AND id = ?",
            arguments: [organisationID, investigationID]
        ).flatMap { Priority(rank: $0) }
    }

    /// Whether the organisation has a team with this id (live usage checks it as batch staging does).
    public func teamExists(organisationID: String, teamID: String) throws -> Bool {
        try Bool.fetchOne(
            db, cached: "SELECT 1 FROM teams WHERE organisation_id = ? AND id = ?", arguments: [organisationID, teamID]
        ) != nil
    }

    /// Whether the organisation exists (the service answers "not found" without reading more).
    public func organisationExists(_ organisationID: String) throws -> Bool {
        try Bool.fetchOne(db, cached: "SELECT 1 FROM organisations WHERE id = ?", arguments: [organisationID]) != nil
    }
}

extension LedgerTransaction {
    /// Sets (or, with zero credits, removes) one reservation of an organisation, live. The next
    /// `credits init` with a changed configuration replaces reservations with the configured ones.
    public func setReservation(
        organisationID: String, reservationID: String, credits: Credits, maxPriority: Priority
    ) throws {
        guard try reader.organisationExists(organisationID) else {
            throw PostingRejection.organisationNotFound(organisationID)
        }
        guard !credits.isNegative else { throw PostingRejection.amountMustBePositive }
        postingState.forget(organisationID)
        if credits == .zero {
            try db.execute(
                sql: "DELETE FROM reservations WHERE organisation_id = ? AND id = ?",
                arguments: [organisationID, reservationID])
            return
        }
        try db.execute(
            sql: """
                INSERT INTO reservations (organisation_id, id, credits, max_priority) VALUES (?, ?, ?, ?)
                ON CONFLICT(organisation_id, id) DO UPDATE SET credits = excluded.credits,
                    max_priority = excluded.max_priority
                """,
            arguments: [organisationID, reservationID, credits.microcredits, maxPriority.rank])
    }

    /// Replaces an organisation's low-balance thresholds, live (same caveat as `setReservation`).
    public func setThresholds(organisationID: String, thresholds: Thresholds) throws {
        guard let json = try String.fetchOne(
            db, sql: "SELECT settings FROM organisations WHERE id = ?", arguments: [organisationID])
        else { throw PostingRejection.organisationNotFound(organisationID) }
        var organisation = try ConfigurationCodec.decode(Organisation.self, json)
        organisation.thresholds = thresholds
        try db.execute(
            sql: "UPDATE organisations SET settings = ? WHERE id = ?",
            arguments: [try ConfigurationCodec.json(organisation), organisationID])
    }
}
