import Crypto
import Dispatch
import Foundation
import NIOCore
import PostgresNIO

/// `credits ingest events|orders` on PostgreSQL: the same `StagingStore` ingest stages a SQLite ledger
/// through, so the rules (what is staged, a duplicate, a conflict, a rejection, a tied order) are
/// Ingest's, written once. An order export (read whole by ingest, as on SQLite) is one `COPY` into a
/// temporary table and one `INSERT ... SELECT` in file order.
///
/// A file is one transaction. Each batch of events (ingest hands over 1,024 at a time) costs two round
/// trips: one query for which of its ids are staged already (earlier files, runs, batches of this file),
/// and one `COPY ... FROM STDIN` of the new ones, decided in order against both. So staging is set-based
/// and streamed: memory holds one batch, never the file.
///
/// Runs are serialised by the stage's advisory lock (`PostgresStore.takeStageLock`), as the lock file
/// serialises them on SQLite; a killed run's connection closes, which ends its transaction (nothing of the
/// file is kept) and frees its lock. It is `PostgresStore.staging`: the store's connection, opened and
/// closed by the store.
///
/// Synchronous, as `StagingStore` is: each call waits for its PostgreSQL work (`PostgresBlocking`). Use it
/// from a thread of its own (the CLI's main thread, a `Thread`), never from a task of Swift concurrency's pool.
public final class PostgresStagingStore: StagingStore, Sendable {
    let ledger: PostgresLedger
    private let clock: @Sendable () -> Instant

    init(ledger: PostgresLedger, clock: @escaping @Sendable () -> Instant) {
        self.ledger = ledger
        self.clock = clock
    }

    public func ingestConfiguration() throws -> IngestConfiguration {
        try ledger.blocking { ledger in
            let organisations = try await ledger.strings("SELECT settings FROM organisations ORDER BY id COLLATE \"C\"")
                .map { try ConfigurationCodec.decode(Organisation.self, $0) }
            let issuer = try await ledger.strings("SELECT settings FROM issuer ORDER BY id COLLATE \"C\" LIMIT 1")
                .first.map { try ConfigurationCodec.decode(Issuer.self, $0) }
            let operations = try await ledger.strings("SELECT id FROM operations ORDER BY id COLLATE \"C\"")
            var rateCards: [RateCardEntry] = []
            let rows = try await ledger.connection.query("""
                SELECT organisation_id, operation, unit, credits_per_unit FROM rate_cards
                ORDER BY organisation_id COLLATE "C", operation COLLATE "C", unit COLLATE "C"
                """, logger: ledger.logger)
            for try await (organisation, operation, unit, rate) in rows.decode((String, String, String, Int64).self) {
                rateCards.append(RateCardEntry(
                    organisationID: organisation.isEmpty ? nil : organisation, operation: operation, unit: unit,
                    creditsPerUnit: Credits(microcredits: rate)))
            }
            return IngestConfiguration(
                organisations: organisations, usageEarliest: issuer?.usageEarliest,
                operations: operations.isEmpty ? nil : operations, rateCards: rateCards)
        }
    }

    public func hasIngestedFile(bytes: Int64) throws -> Bool {
        try ledger.blocking { ledger in
            try await ledger.integer("SELECT CAST(1 AS bigint) FROM ingested_files WHERE bytes = \(bytes) LIMIT 1") != nil
        }
    }

    public func ingestedFile(contentSHA256: String) throws -> IngestedFile? {
        try ledger.blocking { try await $0.ingestedFile(contentSHA256: contentSHA256) }
    }

    /// Rejections read back per query: a file of a million refused records is never held whole.
    static let rejectionPage = 1_000

    /// Streams the rejections a page at a time (`rejectionPage`).
    public func forEachRejection(ofIngestedFile contentSHA256: String, _ body: (RecordedRejection) throws -> Void) throws {
        var after: Int64 = 0
        while true {
            let start = after
            let page = try ledger.blocking { ledger in
                try await ledger.rejections(ofIngestedFile: contentSHA256, after: start, limit: Self.rejectionPage)
            }
            for (_, rejection) in page { try body(rejection) }
            guard let last = page.last, page.count == Self.rejectionPage else { return }
            after = last.id
        }
    }

    public func stagingFile<T>(_ body: (any StagingUnit) throws -> T) throws -> T {
        try ledger.blocking { try await $0.execute(sql: "BEGIN") }
        let value: T
        do {
            value = try body(PostgresStagingUnit(ledger: ledger, now: clock()))
            try ledger.blocking { try await $0.execute(sql: "COMMIT") }
        } catch {
            try? ledger.blocking { try await $0.execute(sql: "ROLLBACK") }
            throw error
        }
        return value
    }

    public func finishRun() throws {}

    public func observations(ofOrder orderID: String) throws -> [OrderObservation] {
        try ledger.blocking { try await $0.observations(ofOrder: orderID) }
    }

    public func stagedEventCount() throws -> Int {
        Int(try ledger.blocking { try await $0.integer("SELECT CAST(COUNT(*) AS bigint) FROM cost_events") } ?? 0)
    }
}

/// One file's staging, inside its transaction. Used by one thread at a time (ingest's staging thread),
/// one call after another; it remembers the ids of the source file names it recorded.
private final class PostgresStagingUnit: StagingUnit, @unchecked Sendable {
    private let ledger: PostgresLedger
    private let now: Instant
    private var sourceFileIDs: [String: Int64] = [:]

    init(ledger: PostgresLedger, now: Instant) {
        self.ledger = ledger
        self.now = now
    }

    static let costEventColumns = [
        "event_id", "content_sha256", "organisation_id", "team", "investigation", "operation", "credits", "quantity",
        "unit", "rate", "occurred_at", "attributes", "source_file_id", "source_line", "staged_at",
    ]

    func stage(_ events: [StagedCostEvent]) throws -> [StagingOutcome] {
        guard !events.isEmpty else { return [] }
        return try ledger.blocking { _ in try await self.stageBatch(events) }
    }

    private func stageBatch(_ events: [StagedCostEvent]) async throws -> [StagingOutcome] {
        for name in Set(events.map(\.sourceFile)) where sourceFileIDs[name] == nil {
            sourceFileIDs[name] = try await ledger.sourceFileID(name)
        }
        // What holds each id already: a staged event (content digest, where it came from), or one
        // staged earlier in this batch.
        var holders: [String: (digest: ContentDigest, source: String, line: Int)] = [:]
        let rows = try await ledger.connection.query("""
            SELECT e.event_id, e.content_sha256, f.name, e.source_line
            FROM cost_events e JOIN source_files f ON f.id = e.source_file_id
            WHERE e.event_id = ANY(\(events.map(\.eventID)))
            """, logger: ledger.logger)
        for try await (id, digest, source, line) in rows.decode((String, ByteBuffer, String, Int64).self) {
            guard let digest = digest.withUnsafeReadableBytes(ContentDigest.init(rawBytes:)) else {
                throw PostgresStoreError(.internal, "cost_events.content_sha256 of \(id) is not 32 bytes")
            }
            holders[id] = (digest, source, Int(line))
        }
        var outcomes: [StagingOutcome] = []
        outcomes.reserveCapacity(events.count)
        var copy = CopyTextRow(into: ByteBuffer())
        var staged = 0
        for event in events {
            if let holder = holders[event.eventID] {
                outcomes.append(.ofRepeat(event.contentSHA256, held: holder.digest, source: holder.source, line: holder.line))
                continue
            }
            holders[event.eventID] = (event.contentSHA256, event.sourceFile, event.sourceLine)
            try append(event, to: &copy)
            outcomes.append(.staged)
            staged += 1
        }
        if staged > 0 {
            let data = copy.buffer
            try await ledger.connection.copyFrom(
                table: "cost_events", columns: Self.costEventColumns, format: .text(.init()), logger: ledger.logger
            ) { writer in try await writer.write(data) }
        }
        return outcomes
    }

    private func append(_ event: StagedCostEvent, to row: inout CopyTextRow) throws {
        guard let sourceFileID = sourceFileIDs[event.sourceFile] else {
            preconditionFailure("the batch's source files are recorded before its events")
        }
        do {
            try row.append(event.eventID)
            event.contentSHA256.withUnsafeBytes { row.append(bytea: $0) }
            try row.append(event.organisationID)
            try row.append(event.team)
            try row.append(event.investigation)
            try row.append(event.operation)
            row.append(event.credits.microcredits)
            try row.append(event.pricing?.quantity)
            try row.append(event.pricing?.unit)
            row.append(event.pricing?.creditsPerUnit.microcredits)
            row.append(event.occurredAt.millisecondsSinceEpoch)
            try row.append(event.attributesJSON)
            row.append(sourceFileID)
            row.append(Int64(event.sourceLine))
            row.append(now.millisecondsSinceEpoch)
            row.endRow()
        } catch is CopyTextRow.NULInText {
            throw PostgresStoreError(.badData, "\(event.sourceFile):\(event.sourceLine): event \(event.eventID) holds "
                + "text with a NUL byte, which PostgreSQL text cannot store; nothing of the file was staged")
        }
    }

    static let rejectionColumns = ["reason", "file", "line", "column", "field", "detail", "raw", "raw_truncated"]

    func recordRejections(_ rejections: [RecordedRejection]) throws {
        guard !rejections.isEmpty else { return }
        var copy = CopyTextRow(into: ByteBuffer())
        for rejection in rejections {
            do {
                try copy.append(rejection.reason)
                try copy.append(rejection.file)
                copy.append(rejection.line.map(Int64.init))
                copy.append(rejection.column.map(Int64.init))
                try copy.append(rejection.field)
                try copy.append(rejection.detail)
                if let raw = rejection.raw { copy.append(bytea: raw) } else { copy.appendNull() }
                copy.append(rejection.rawTruncated ? 1 : 0)
                copy.endRow()
            } catch is CopyTextRow.NULInText {
                // Rejection texts quote what was refused; a NUL in them is shown as the escape JSON uses.
                throw PostgresStoreError(.internal, "\(rejection.file): a rejection's text holds a NUL byte")
            }
        }
        let data = copy.buffer
        try ledger.blocking { ledger in
            try await ledger.connection.copyFrom(
                table: "ingest_rejections", columns: Self.rejectionColumns, format: .text(.init()), logger: ledger.logger
            ) { writer in try await writer.write(data) }
        }
    }

    static let observationColumns = [
        "seq", "observation_hash", "order_id", "order_type", "state", "amount_minor", "currency", "merchant_reference",
        "organisation_id", "package_id", "related_order_id", "created_at", "updated_at", "source", "source_file",
        "source_line", "observed_at",
    ]

    /// Order views per `COPY` message and per tie query, so memory holds a slice of the export's views
    /// beyond the views themselves, not a second copy of them all.
    static let orderSlice = 2_048

    /// The views go to a temporary table with `COPY`, then into `revolut_order_observations` in file order,
    /// skipping views already recorded: the hashes that went in are the new views.
    func observe(_ observations: [OrderObservation]) throws -> [Bool] {
        guard !observations.isEmpty else { return [] }
        let now = now
        let inserted = try ledger.blocking { ledger -> Set<String> in
            try await ledger.execute(sql: """
                CREATE TEMPORARY TABLE IF NOT EXISTS incoming_observations (
                    seq bigint NOT NULL, observation_hash text NOT NULL, order_id text NOT NULL, order_type text NOT NULL,
                    state text NOT NULL, amount_minor bigint NOT NULL, currency text NOT NULL, merchant_reference text,
                    organisation_id text, package_id text, related_order_id text, created_at bigint, updated_at bigint,
                    source text NOT NULL, source_file text NOT NULL, source_line bigint NOT NULL, observed_at bigint NOT NULL
                ) ON COMMIT DROP
                """)
            try await ledger.execute(sql: "TRUNCATE incoming_observations")
            try await ledger.connection.copyFrom(
                table: "incoming_observations", columns: Self.observationColumns, format: .text(.init()),
                logger: ledger.logger
            ) { writer in
                for start in stride(from: 0, to: observations.count, by: Self.orderSlice) {
                    let end = min(start + Self.orderSlice, observations.count)
                    try await writer.write(try Self.copyRows(observations[start..<end], observedAt: now))
                }
            }
            let columns = Self.observationColumns.dropFirst().joined(separator: ", ")
            return Set(try await ledger.strings(PostgresQuery(unsafeSQL: """
                INSERT INTO revolut_order_observations (\(columns))
                SELECT \(columns) FROM incoming_observations ORDER BY seq
                ON CONFLICT (observation_hash) DO NOTHING RETURNING observation_hash
                """)))
        }
        var unclaimed = inserted
        return observations.map { unclaimed.remove($0.contentHash) != nil }
    }

    /// Views as `incoming_observations` rows, `seq` their place in the export.
    private static func copyRows(_ views: ArraySlice<OrderObservation>, observedAt now: Instant) throws -> ByteBuffer {
        var copy = CopyTextRow(into: ByteBuffer())
        for (index, view) in zip(views.indices, views) {
            do {
                copy.append(Int64(index))
                try copy.append(view.contentHash)
                try copy.append(view.orderID)
                try copy.append(view.orderType.word)
                try copy.append(view.state.word)
                copy.append(view.amount.minorUnits)
                try copy.append(view.amount.currency.code)
                try copy.append(view.merchantReference)
                try copy.append(view.organisationID)
                try copy.append(view.packageID)
                try copy.append(view.relatedOrderID)
                copy.append(view.createdAt?.millisecondsSinceEpoch)
                copy.append(view.updatedAt?.millisecondsSinceEpoch)
                try copy.append(view.source)
                try copy.append(view.sourceFile)
                copy.append(Int64(view.sourceLine))
                copy.append(now.millisecondsSinceEpoch)
                copy.endRow()
            } catch is CopyTextRow.NULInText {
                throw PostgresStoreError(.badData, "\(view.sourceFile):\(view.sourceLine): order \(view.orderID) holds "
                    + "text with a NUL byte, which PostgreSQL text cannot store; nothing of the file was staged")
            }
        }
        return copy.buffer
    }

    func recordedTies(of observations: [OrderObservation]) throws -> [Bool] {
        var ties: [Bool] = []
        ties.reserveCapacity(observations.count)
        for start in stride(from: 0, to: observations.count, by: Self.orderSlice) {
            let slice = observations[start..<min(start + Self.orderSlice, observations.count)]
            let orderIDs = slice.map(\.orderID)
            // No reference is sent as '' (a purchase's reference is never empty).
            let references = slice.map { $0.merchantReference ?? "" }
            let tied = try ledger.blocking { ledger -> Set<Int64> in
                let rows = try await ledger.connection.query("""
                    SELECT t.i FROM unnest(\(orderIDs)::text[], \(references)::text[]) WITH ORDINALITY AS t(order_id, reference, i)
                    WHERE EXISTS (SELECT 1 FROM purchases p WHERE p.reference = NULLIF(t.reference, ''))
                        OR EXISTS (SELECT 1 FROM purchases p WHERE p.revolut_order_id = t.order_id)
                        OR EXISTS (SELECT 1 FROM revolut_order_observations o WHERE o.order_id = t.order_id
                            AND (o.organisation_id IS NOT NULL OR o.related_order_id IS NOT NULL))
                    """, logger: ledger.logger)
                var tied = Set<Int64>()
                for try await index in rows.decode(Int64.self) { tied.insert(index) }
                return tied
            }
            ties += orderIDs.indices.map { tied.contains(Int64($0 + 1)) }
        }
        return ties
    }

    func ingestedFile(contentSHA256: String) throws -> IngestedFile? {
        try ledger.blocking { try await $0.ingestedFile(contentSHA256: contentSHA256) }
    }

    func recordIngestedFile(contentSHA256: String, kind: IngestKind, path: String, bytes: Int64, summary: String) throws {
        let at = now.millisecondsSinceEpoch
        try ledger.blocking { ledger in
            let inserted = try await ledger.integer("""
                WITH inserted AS (
                    INSERT INTO ingested_files (content_sha256, kind, path, bytes, ingested_at, summary)
                    VALUES (\(contentSHA256), \(kind.rawValue), \(path), \(bytes), \(at), \(summary))
                    ON CONFLICT (content_sha256) DO NOTHING RETURNING 1)
                SELECT CAST(COUNT(*) AS bigint) FROM inserted
                """) ?? 0
            // The rejections recorded in this transaction are this file's, unless the same content was
            // recorded meanwhile: then its own rejections stand, exactly once.
            if inserted == 1 {
                try await ledger.execute(
                    "UPDATE ingest_rejections SET content_sha256 = \(contentSHA256) WHERE content_sha256 IS NULL")
            } else {
                try await ledger.execute("DELETE FROM ingest_rejections WHERE content_sha256 IS NULL")
            }
        }
    }
}

extension PostgresLedger {
    func ingestedFile(contentSHA256: String) async throws -> IngestedFile? {
        let rows = try await connection.query("""
            SELECT content_sha256, kind, path, bytes, ingested_at, summary FROM ingested_files
            WHERE content_sha256 = \(contentSHA256)
            """, logger: logger)
        for try await (sha, kind, path, bytes, at, summary) in rows.decode((String, String, String, Int64, Int64, String).self) {
            return IngestedFile(
                contentSHA256: sha, kind: try IngestKind(stored: kind, table: "ingested_files", column: "kind"),
                path: path, bytes: bytes, ingestedAt: Instant(millisecondsSinceEpoch: at), summary: summary)
        }
        return nil
    }

    /// Up to `limit` rejections of an ingested file after the one with id `after`, in order, with their ids.
    func rejections(ofIngestedFile contentSHA256: String, after: Int64, limit: Int) async throws
        -> [(id: Int64, rejection: RecordedRejection)]
    {
        let rows = try await connection.query("""
            SELECT id, reason, file, line, "column", field, detail, raw, raw_truncated FROM ingest_rejections
            WHERE content_sha256 = \(contentSHA256) AND id > \(after) ORDER BY id LIMIT \(Int64(limit))
            """, logger: logger)
        var page: [(id: Int64, rejection: RecordedRejection)] = []
        for try await (id, reason, file, line, column, field, detail, raw, truncated) in rows.decode(
            (Int64, String, String, Int64?, Int64?, String?, String, ByteBuffer?, Int64).self)
        {
            page.append((id, RecordedRejection(
                reason: reason, file: file, line: line.map(Int.init), column: column.map(Int.init), field: field,
                detail: detail, raw: raw.map { Array($0.readableBytesView) }, rawTruncated: truncated != 0)))
        }
        return page
    }

    /// The recorded views of an order, in `LedgerReader.observations(ofOrder:)`'s order.
    func observations(ofOrder orderID: String) async throws -> [OrderObservation] {
        let rows = try await connection.query("""
            SELECT order_type, order_id, state, amount_minor, currency, merchant_reference, organisation_id, package_id,
                related_order_id, created_at, updated_at, source, source_file, source_line
            FROM revolut_order_observations WHERE order_id = \(orderID) ORDER BY updated_at IS NULL, updated_at, id
            """, logger: logger)
        var views: [OrderObservation] = []
        for try await (type, id, state, amount, currency, reference, organisation, package, related, created, updated,
                       source, file, line) in rows.decode(
            (String, String, String, Int64, String, String?, String?, String?, String?, Int64?, Int64?, String, String,
             Int64).self)
        {
            guard let currency = Currency(code: currency) else { continue }
            views.append(OrderObservation(
                orderType: RevolutOrderType(normalising: type), orderID: id, state: RevolutOrderState(normalising: state),
                amount: Money(minorUnits: amount, currency: currency), merchantReference: reference,
                organisationID: organisation, packageID: package, relatedOrderID: related,
                createdAt: created.map(Instant.init(millisecondsSinceEpoch:)),
                updatedAt: updated.map(Instant.init(millisecondsSinceEpoch:)), source: source, sourceFile: file,
                sourceLine: Int(line)))
        }
        return views
    }

    /// The id of a source file name, recorded the first time it is seen.
    func sourceFileID(_ name: String) async throws -> Int64 {
        try await execute("INSERT INTO source_files (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING")
        guard let id = try await integer("SELECT id FROM source_files WHERE name = \(name)") else {
            preconditionFailure("a source file name just recorded has an id")
        }
        return id
    }

    /// The advisory lock key of a stage: the first eight bytes of SHA-256 of its name, so every process
    /// agrees on it without a table of keys.
    static func stageLockKey(_ stage: String) -> Int64 {
        SHA256.hash(data: Data("credits stage \(stage)".utf8)).withUnsafeBytes {
            Int64(bigEndian: $0.loadUnaligned(as: Int64.self))
        }
    }

    func takeStageLock(_ stage: String, wait: Bool) async throws {
        let key = Self.stageLockKey(stage)
        if wait {
            try await execute("SELECT pg_advisory_lock(\(key))")
            return
        }
        let rows = try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: logger)
        var taken = false
        for try await value in rows.decode(Bool.self) { taken = value }
        guard !taken else { return }
        // A bigint key is held as classid (its high 32 bits) and objid (its low 32 bits), objsubid 1.
        let high = Int64(UInt32(truncatingIfNeeded: key >> 32))
        let low = Int64(UInt32(truncatingIfNeeded: key))
        let holders = try await strings("""
            SELECT 'backend pid ' || a.pid || COALESCE(' (' || NULLIF(a.application_name, '') || ')', '')
                || ' since ' || to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = \(high) AND l.objid::bigint = \(low)
                AND l.objsubid = 1
            """)
        throw StageLock.Held(
            stage: stage, path: "the advisory lock \(key) of \(location.redacted)",
            holder: holders.first ?? "a backend that has since let it go")
    }
}

extension PostgresLedger {
    /// Runs `work` on this ledger and waits for it (`PostgresBlocking`); a failure comes back classified
    /// and naming the database without its password (`PostgresStoreError`).
    func blocking<T: Sendable>(_ work: @escaping @Sendable (PostgresLedger) async throws -> T) throws -> T {
        do {
            return try PostgresBlocking.wait { try await work(self) }
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }
}

extension PostgresLedger {
    /// Runs one statement and waits, on the calling thread, for all its rows: through postgres-nio's
    /// `EventLoopFuture` interface, so a statement costs the hop to the connection's event loop and back,
    /// where `blocking` also hops to and from a task of Swift concurrency's pool (about half a millisecond a
    /// statement on the 2-core machine, most of a small query's time: benchmarks/README.md). The calling
    /// thread must not be an event loop (`EventLoopFuture.wait` refuses) nor a task of the pool.
    func waitForResult(of query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }
}

/// Waits, on a thread of the caller's, for async PostgreSQL work: how the synchronous `StagingStore`
/// calls reach postgres-nio. The work runs on Swift concurrency's pool and NIO's event loops, so the
/// waiting thread must be neither (the CLI's main thread, or a `Thread` of its own).
enum PostgresBlocking {
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                box.result = .success(try await work())
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { preconditionFailure("the work signals only once it has a result") }
        return try result.get()
    }

    /// Written by the task before it signals, read by the waiting thread after: the semaphore orders them.
    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }
}
