import GRDB

extension Schema {
    /// Staged events in occurrence order (`occurred_at`, then `event_id`), the order the nightly plan
    /// walks the uncharged ones in (`LedgerReader.forEachUnchargedEvent`). Without it SQLite sorted every
    /// matching row before returning the first, the largest part of reconcile's and apply's peak memory
    /// (issue 13; with it, 65 MB less at 1M events). The index costs about 30 MB at 1M events and no
    /// measurable ingest time (benchmarks/README.md).
    static func indexCostEventsByOccurrence(_ db: Database) throws {
        try db.execute(sql: "CREATE INDEX cost_events_by_occurrence ON cost_events(occurred_at, event_id)")
    }
}
