import GRDB

// Point lookups of configuration inside the live usage route's group commit: they read no
// balances, so they leave the transaction's deferred balance changes deferred (`dbReadingNoBalances`).
extension LedgerReader {
    /// The priority of an organisation's investigation, or nil if it has no such investigation.
    /// The live gate uses it to decide which reservations a spend may use.
    public func investigationPriority(organisationID: String, investigationID: String) throws -> Priority? {
        try Int.fetchOne(
            dbReadingNoBalances, cached: "SELECT priority FROM investigations WHERE organisation_id = ? AND id = ?",
            arguments: [organisationID, investigationID]
        ).flatMap { Priority(rank: $0) }
    }

    /// The organisations that have an investigation of this id, sorted (asked only when an event names
    /// an investigation that is not its organisation's, to say whose it is).
    public func organisationsWithInvestigation(_ investigationID: String) throws -> [String] {
        try String.fetchAll(
            dbReadingNoBalances, cached: "SELECT organisation_id FROM investigations WHERE id = ? ORDER BY organisation_id",
            arguments: [investigationID])
    }

    /// Whether the organisation has a team with this id (live usage checks it as batch staging does).
    public func teamExists(organisationID: String, teamID: String) throws -> Bool {
        try Bool.fetchOne(
            dbReadingNoBalances, cached: "SELECT 1 FROM teams WHERE organisation_id = ? AND id = ?", arguments: [organisationID, teamID]
        ) != nil
    }

    /// The first instant the organisation's usage may be charged for (`UsageStart`), by point lookup:
    /// its usage start, plan start and time zone and the issuer's `usage_earliest`, not the whole
    /// configuration.
    public func usageStart(of organisationID: String) throws -> Instant? {
        guard let row = try Row.fetchOne(
            dbReadingNoBalances,
            cached: """
                SELECT json_extract(settings, '$.usageStartDate'), json_extract(settings, '$.planStart'), time_zone,
                    (SELECT json_extract(settings, '$.usageEarliest') FROM issuer ORDER BY id LIMIT 1)
                FROM organisations WHERE id = ?
                """,
            arguments: [organisationID])
        else { return nil }
        return UsageStart.instant(
            usageStart: (row[0] as String?).flatMap(LocalDate.parse), planStart: (row[1] as String?).flatMap(LocalDate.parse),
            earliest: (row[3] as String?).flatMap(LocalDate.parse), timeZone: row[2])
    }

    /// Whether the organisation exists (the service answers "not found" without reading more).
    public func organisationExists(_ organisationID: String) throws -> Bool {
        try Bool.fetchOne(dbReadingNoBalances, cached: "SELECT 1 FROM organisations WHERE id = ?", arguments: [organisationID]) != nil
    }
}
