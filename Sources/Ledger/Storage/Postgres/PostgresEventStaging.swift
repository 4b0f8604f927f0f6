/// Stages one cost event inside a posting transaction on PostgreSQL: the live route's staging
/// (`POST /v1/usage`, `LedgerTransaction.stage`), by the same rule as SQLite's `CostEventStager` and batch
/// ingest's `COPY` (`PostgresStagingUnit`): `.staged` when the id is new, else `.duplicate` (same content
/// digest) or `.conflict` naming where the first one came from (it stands).
///
/// Two replicas staging the same id at once: the second `INSERT ... ON CONFLICT DO NOTHING` waits for the
/// first's transaction, then inserts nothing, and reads the row the first committed (READ COMMITTED: each
/// statement sees every commit before it). So an event is staged, and charged, once.
///
/// The caller has locked the event's organisation (`LedgerTransaction.lockOrganisation`), as posting locks it
/// before anything it writes: were the event staged first, a replica could hold the staged row while it
/// waited for the organisation, and another hold the organisation while it waited for that row (a deadlock,
/// measured: one group commit in three lost to it with three replicas posting for one organisation).
enum PostgresEventStaging {
    static func stage(_ event: StagedCostEvent, on session: PostgresSession, now: Instant) throws -> StagingOutcome {
        precondition(event.credits.isPositive, "staged credits are validated positive")
        let inserted = try session.run(insertSQL) { row in
            row.add(event.eventID)
            row.add(event.contentSHA256.hex)
            row.add(event.organisationID)
            row.add(event.team)
            row.add(event.investigation)
            row.add(event.operation)
            row.add(event.credits.microcredits)
            row.add(event.pricing?.quantity)
            row.add(event.pricing?.unit)
            row.add(event.pricing?.creditsPerUnit.microcredits)
            row.add(event.occurredAt.millisecondsSinceEpoch)
            row.add(event.attributesJSON)
            row.add(event.sourceFile)
            row.add(Int64(event.sourceLine))
            row.add(now.millisecondsSinceEpoch)
        }
        if inserted == 1 { return .staged }
        guard let holder = try session.first(existingSQL, bind: { $0.add(event.eventID) }, read: { row in
            (digest: row.text(0), source: row.text(1), line: Int(row.int64(2)))
        }) else {
            preconditionFailure("an event id that conflicted on insert is staged")
        }
        guard let held = ContentDigest(hex: holder.digest) else {
            throw PostgresStoreError(.internal, "cost_events.content_sha256 of \(event.eventID) is not 32 bytes")
        }
        return .ofRepeat(event.contentSHA256, held: held, source: holder.source, line: holder.line)
    }

    /// The event and, the first time, its source file's row, in one statement (one round trip per event): the
    /// file's id is the one the CTE inserted, else the one already there (a statement does not see its own
    /// CTE's rows).
    private static let insertSQL = """
        WITH inserted_file AS (
            INSERT INTO source_files (name) VALUES (?13) ON CONFLICT (name) DO NOTHING RETURNING id)
        INSERT INTO cost_events (event_id, content_sha256, organisation_id, team, investigation, operation, credits,
            quantity, unit, rate, occurred_at, attributes, source_file_id, source_line, staged_at)
        SELECT ?1, decode(?2, 'hex'), ?3, ?4, ?5, ?6, ?7, ?8, ?9, CAST(?10 AS BIGINT), ?11, ?12,
            COALESCE((SELECT id FROM inserted_file), (SELECT id FROM source_files WHERE name = ?13)), ?14, ?15
        ON CONFLICT (event_id) DO NOTHING
        """

    private static let existingSQL = """
        SELECT encode(e.content_sha256, 'hex'), f.name, e.source_line
        FROM cost_events e JOIN source_files f ON f.id = e.source_file_id
        WHERE e.event_id = ?
        """
}
