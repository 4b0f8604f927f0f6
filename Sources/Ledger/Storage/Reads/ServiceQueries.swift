// Point lookups of configuration inside the live usage route's group commit: they read no
// balances, so they leave the transaction's deferred balance changes deferred (`sqlReadingNoBalances`).
// Portable SQL, the same on both stores, but for where JSON is read (`eventConfiguration`).
extension LedgerReader {
    /// The organisations that have an investigation of this id, sorted (asked only when an event names
    /// an investigation that is not its organisation's, to say whose it is).
    public func organisationsWithInvestigation(_ investigationID: String) throws -> [String] {
        try sqlReadingNoBalances.all(
            "SELECT organisation_id FROM investigations WHERE id = ? ORDER BY organisation_id COLLATE BINARY",
            bind: { $0.add(investigationID) }, read: { $0.text(0) })
    }

    /// Everything the configuration rules of one cost event ask of the ledger (`CostEventConfigurationRule`),
    /// in one query: the live usage route asks it for every event, inside its group commit, where each
    /// lookup of its own was a round trip on PostgreSQL (five per event).
    public func eventConfiguration(
        organisationID: String, team: String, investigation: String?, operation: String
    ) throws -> EventConfiguration {
        guard let row = try sqlReadingNoBalances.first(
            isSQLite ? Self.eventConfigurationSQLite : Self.eventConfigurationPostgres,
            bind: { row in
                row.add(organisationID)
                row.add(team)
                row.add(investigation)
                row.add(operation)
            },
            read: { row in
                EventConfiguration(
                    organisationExists: row.int64(0) != 0, teamExists: row.int64(1) != 0,
                    investigationPriority: row.int64OrNil(2).flatMap { Priority(rank: Int($0)) },
                    acceptsOperation: row.int64(3) != 0,
                    usageStart: row.textOrNil(6).flatMap { timeZone in
                        UsageStart.instant(
                            usageStart: row.textOrNil(4).flatMap(LocalDate.parse),
                            planStart: row.textOrNil(5).flatMap(LocalDate.parse),
                            earliest: row.textOrNil(7).flatMap(LocalDate.parse), timeZone: timeZone)
                    })
            })
        else { preconditionFailure("a query from a one-row table answers one row") }
        return row
    }

    /// The lookups of `teamExists`, `investigationPriority`, `acceptsOperation` and `usageStart` as columns
    /// of one row, whether or not the organisation exists; JSON read as each store reads it.
    private static func eventConfigurationSQL(json: (_ column: String, _ key: String) -> String) -> String {
        """
        SELECT o.id IS NOT NULL,
            EXISTS (SELECT 1 FROM teams WHERE organisation_id = ?1 AND id = ?2),
            (SELECT priority FROM investigations WHERE organisation_id = ?1 AND id = ?3),
            EXISTS (SELECT 1 FROM operations WHERE id = ?4) OR NOT EXISTS (SELECT 1 FROM operations),
            \(json("o.settings", "usageStartDate")), \(json("o.settings", "planStart")), o.time_zone,
            (SELECT \(json("settings", "usageEarliest")) FROM issuer ORDER BY id LIMIT 1)
        FROM (SELECT 1 AS one) AS one LEFT JOIN organisations o ON o.id = ?1
        """
    }

    private static let eventConfigurationSQLite = eventConfigurationSQL { "json_extract(\($0), '$.\($1)')" }
    private static let eventConfigurationPostgres = eventConfigurationSQL { "\($0)::jsonb ->> '\($1)'" }

    /// Whether the organisation exists (the service answers "not found" without reading more).
    public func organisationExists(_ organisationID: String) throws -> Bool {
        try sqlReadingNoBalances.first(
            "SELECT 1 FROM organisations WHERE id = ?", bind: { $0.add(organisationID) }, read: { _ in true }) ?? false
    }
}

/// What the configuration says of one cost event's organisation, team, investigation and operation
/// (`LedgerReader.eventConfiguration`).
public struct EventConfiguration: Sendable, Hashable {
    public let organisationExists: Bool
    public let teamExists: Bool
    /// The investigation's priority when it is one of the organisation's.
    public let investigationPriority: Priority?
    public let acceptsOperation: Bool
    /// `Organisation.usageStart`; nil when the organisation does not exist or has none.
    public let usageStart: Instant?
}
