import Foundation
import GRDB
import PostgresNIO

/// `credits db copy --from FILE --to URL`: a whole SQLite ledger into PostgreSQL, resumable.
///
/// How: table by table, parents before children (`PostgresSchema.tablesInDependencyOrder`), each in key
/// order (rowid, or the primary key of a WITHOUT ROWID table), in batches of `batchRows` rows. A batch is
/// read from SQLite in one short read, streamed with `COPY ... FROM STDIN` (text format), and committed in
/// one PostgreSQL transaction together with the table's progress (`credits_copy_progress`: the last key
/// copied, the rows so far, whether the table is done). So memory holds one batch, and a copy killed at any
/// point (kill -9, a lost connection) left whole batches and the progress that names them: the rerun goes
/// on after the last committed key, and never copies a row twice. A table is done when a batch comes back
/// short; its identity sequence then continues after the largest id. A rerun after everything is done
/// copies nothing.
///
/// The source must not change during the copy (stop the stages and `serve` first): the digests both stores
/// give at the end prove the result, and differ if it did.
///
/// What the target refuses, it refuses: every CHECK, foreign key and unique index, and the triggers that
/// keep a charge once. Only the triggers that guard *new* rows against what old rows legitimately hold are
/// lifted, for the batch's own transaction and under its table lock, so no other session ever sees them
/// off: `transfers_name_their_actor` (transfers from before actors were recorded) and the invoice
/// numbering triggers (the counter is copied with its final value).
public enum LedgerCopy {
    public struct TableReport: Sendable, Codable, Equatable {
        public let table: String
        /// Rows copied by this run.
        public let copied: Int64
        /// Rows the table held in the target when it was done.
        public let total: Int64
        /// Whether an earlier run had copied part or all of it.
        public let resumed: Bool
    }

    public struct Report: Sendable, Codable, Equatable {
        public let tables: [TableReport]
        public let sourceDigest: String
        public let targetDigest: String
        public var digestsEqual: Bool { sourceDigest == targetDigest }
        public var copied: Int64 { tables.reduce(0) { $0 + $1.copied } }
    }

    static let progressTable = "credits_copy_progress"

    /// Triggers lifted while a batch of the table is copied (see above).
    static let liftedTriggers: [String: [String]] = [
        "transfers": ["transfers_name_their_actor"],
        "invoices": ["invoices_take_the_next_number", "invoices_move_the_counter"],
    ]

    /// Copies `source` into `target` (created or migrated first), then compares their digests.
    public static func copy(
        from source: LedgerDatabase, to target: PostgresLedger, batchRows: Int = 2_000,
        progress: (String) -> Void = { _ in }
    ) async throws -> Report {
        do {
            try await target.migrate()
            try await prepareProgress(target)
            try await refuseForeignTarget(target)
            let sourceTables = try source.readBlocking { reader in
                try String.fetchAll(try reader.db, sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                        AND name <> 'grdb_migrations'
                    """)
            }
            let unknown = Set(sourceTables).subtracting(PostgresSchema.tablesInDependencyOrder)
            guard unknown.isEmpty else {
                throw PostgresStoreError(.internal, "\(source.path) has tables db copy does not know: "
                    + "\(unknown.sorted().joined(separator: ", ")) (written by a newer version of credits?)")
            }
            var reports: [TableReport] = []
            for table in PostgresSchema.tablesInDependencyOrder {
                let plan = try TablePlan(table: table, source: source)
                try await plan.checkColumns(against: target)
                reports.append(try await copyTable(plan, from: source, to: target, batchRows: batchRows, progress: progress))
            }
            let sourceDigest = try source.readBlocking { try $0.digest() }
            let targetDigest = try await target.digest()
            return Report(tables: reports, sourceDigest: sourceDigest, targetDigest: targetDigest)
        } catch {
            throw PostgresStoreError(error, at: target.location)
        }
    }

    private static func prepareProgress(_ target: PostgresLedger) async throws {
        try await target.execute(sql: """
            CREATE TABLE IF NOT EXISTS \(progressTable) (
                table_name text PRIMARY KEY NOT NULL,
                last_key text NOT NULL,
                rows bigint NOT NULL CHECK (rows >= 0),
                done boolean NOT NULL
            )
            """)
    }

    /// A copy goes into a fresh ledger, or one an earlier copy began: never over a ledger that has its own
    /// rows (the four system accounts every new ledger holds excepted; the copy replaces them).
    private static func refuseForeignTarget(_ target: PostgresLedger) async throws {
        let started = try await target.integer(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(progressTable)")) ?? 0
        guard started == 0 else { return }
        for table in PostgresSchema.tablesInDependencyOrder {
            let query = table == "accounts"
                ? "SELECT COUNT(*) FROM accounts WHERE id NOT LIKE 'system:%' OR debits_posted <> 0 OR credits_posted <> 0"
                : "SELECT COUNT(*) FROM \"\(table)\""
            if let count = try await target.integer(PostgresQuery(unsafeSQL: query)), count > 0 {
                throw PostgresStoreError(.usage, "\(target.location.redacted) already holds a ledger (\(table) has "
                    + "\(count) rows) that no copy started; copy into an empty database")
            }
        }
    }

    private static func copyTable(
        _ plan: TablePlan, from source: LedgerDatabase, to target: PostgresLedger, batchRows: Int,
        progress: (String) -> Void
    ) async throws -> TableReport {
        let state = try await target.strings(
            "SELECT last_key || chr(9) || rows || chr(9) || done FROM credits_copy_progress WHERE table_name = \(plan.table)")
        var lastKey: [DatabaseValue]?
        var total: Int64 = 0
        if let row = state.first {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
            total = Int64(fields[1]) ?? 0
            if fields[2] == "true" {
                return TableReport(table: plan.table, copied: 0, total: total, resumed: true)
            }
            lastKey = try TablePlan.decodeKey(String(fields[0]))
        }
        let resumed = !state.isEmpty
        var copied: Int64 = 0
        while true {
            let batch = try source.readBlocking { reader in
                try plan.readBatch(try reader.db, after: lastKey, limit: batchRows)
            }
            let done = batch.rows < batchRows
            try await commit(batch, of: plan, done: done, replacingSeededAccounts: !resumed && copied == 0,
                             after: lastKey, to: target)
            CrashPoint.hit("db-copy.afterCommit")
            copied += Int64(batch.rows)
            total += Int64(batch.rows)
            if let key = batch.lastKey { lastKey = key }
            if batch.rows > 0 { progress("\(plan.table): \(total) rows") }
            if done { break }
        }
        return TableReport(table: plan.table, copied: copied, total: total, resumed: resumed)
    }
}

extension LedgerCopy {
    /// One batch, in one transaction with the table's progress: the rows (COPY), the sequence when the
    /// table is done, and the last key, so a kill leaves the batch and its progress both or neither.
    static func commit(
        _ batch: TablePlan.Batch, of plan: TablePlan, done: Bool, replacingSeededAccounts: Bool,
        after lastKey: [DatabaseValue]?, to target: PostgresLedger
    ) async throws {
        try await target.transaction {
            if replacingSeededAccounts, plan.table == "accounts" {
                // The system accounts the migration created; the source's own replace them.
                try await target.execute(sql: "DELETE FROM accounts WHERE id LIKE 'system:%'")
            }
            let lifted = liftedTriggers[plan.table] ?? []
            for trigger in lifted {
                try await target.execute(sql: "ALTER TABLE \(plan.table) DISABLE TRIGGER \(trigger)")
            }
            if batch.rows > 0 {
                try await target.connection.copyFrom(
                    table: plan.table, columns: plan.columns, format: .text(.init()), logger: target.logger
                ) { writer in
                    try await writer.write(batch.data)
                }
            }
            for trigger in lifted {
                try await target.execute(sql: "ALTER TABLE \(plan.table) ENABLE TRIGGER \(trigger)")
            }
            if done, PostgresSchema.identityTables.contains(plan.table) {
                try await target.execute(sql: """
                    SELECT setval(pg_get_serial_sequence('\(plan.table)', 'id'),
                        COALESCE((SELECT MAX(id) FROM \(plan.table)), 1), (SELECT MAX(id) FROM \(plan.table)) IS NOT NULL)
                    """)
            }
            let key = batch.lastKey.map(TablePlan.encodeKey) ?? lastKey.map(TablePlan.encodeKey) ?? "[]"
            try await target.execute("""
                INSERT INTO credits_copy_progress (table_name, last_key, rows, done)
                VALUES (\(plan.table), \(key), \(Int64(batch.rows)), \(done))
                ON CONFLICT (table_name) DO UPDATE
                SET last_key = excluded.last_key, rows = credits_copy_progress.rows + excluded.rows, done = excluded.done
                """)
            CrashPoint.hit("db-copy.beforeCommit")
        }
    }
}

/// How one table is read from SQLite: its columns (in the table's order) and the key batches follow.
struct TablePlan {
    let table: String
    let columns: [String]
    /// `rowid`, or the primary key's columns of a WITHOUT ROWID table.
    let keyColumns: [String]

    init(table: String, source: LedgerDatabase) throws {
        self.table = table
        let (columns, key) = try source.readBlocking { reader in
            let db = try reader.db
            let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
            let withoutRowID = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]
            )?.uppercased().contains("WITHOUT ROWID") ?? false
            let columns: [String] = info.map { $0["name"] }
            let key: [String] = withoutRowID
                ? info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] }
                : ["rowid"]
            return (columns, key)
        }
        self.columns = columns
        self.keyColumns = key
    }

    /// Refuses a target whose table has other columns, or the same in another order, than the source's.
    func checkColumns(against target: PostgresLedger) async throws {
        let targetColumns = try await target.strings("""
            SELECT CAST(column_name AS text) FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """)
        guard targetColumns == columns else {
            throw PostgresStoreError(.internal, "table \(table) has columns \(columns) in the source but "
                + "\(targetColumns) in \(target.location.redacted); the schemas differ")
        }
    }

    struct Batch {
        var data: ByteBuffer
        var rows: Int
        var lastKey: [DatabaseValue]?
    }

    /// Up to `limit` rows after `key`, as COPY text-format lines, and the key of the last one.
    func readBatch(_ db: Database, after key: [DatabaseValue]?, limit: Int) throws -> Batch {
        let keyList = keyColumns.map(quote).joined(separator: ", ")
        let selected = (columns.map(quote) + keyColumns.map(quote)).joined(separator: ", ")
        var sql = "SELECT \(selected) FROM \(quote(table))"
        var arguments = StatementArguments()
        if let key {
            sql += " WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
            arguments = StatementArguments(key)
        }
        sql += " ORDER BY \(keyList) LIMIT \(limit)"
        var batch = Batch(data: ByteBuffer(), rows: 0, lastKey: nil)
        var copy = CopyTextRow(into: ByteBuffer())
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try cursor.next() {
            for index in 0..<columns.count {
                try Self.writeCopyText(row[index] as DatabaseValue, column: columns[index], table: table, into: &copy)
            }
            copy.endRow()
            batch.rows += 1
            batch.lastKey = (columns.count..<(columns.count + keyColumns.count)).map { row[$0] as DatabaseValue }
        }
        batch.data = copy.buffer
        return batch
    }

    /// One value of a row in COPY's text format (`CopyTextRow`).
    static func writeCopyText(_ value: DatabaseValue, column: String, table: String, into row: inout CopyTextRow) throws {
        switch value.storage {
        case .null:
            row.appendNull()
        case .int64(let integer):
            row.append(integer)
        case .string(let text):
            do {
                try row.append(text)
            } catch is CopyTextRow.NULInText {
                throw PostgresStoreError(.badData, "\(table).\(column) holds text with a NUL byte, which PostgreSQL "
                    + "text cannot store")
            }
        case .blob(let data):
            row.append(bytea: data)
        case .double:
            throw PostgresStoreError(.badData, "\(table).\(column) holds a real number, which no ledger column holds")
        }
    }

    private func quote(_ name: String) -> String {
        name == "rowid" ? name : "\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\""
    }

    /// A key as the progress table stores it: a JSON array of integers and strings.
    static func encodeKey(_ key: [DatabaseValue]) -> String {
        let values: [Any] = key.map { value -> Any in
            switch value.storage {
            case .int64(let integer): integer
            case .string(let text): text
            default: NSNull()
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeKey(_ text: String) throws -> [DatabaseValue]? {
        guard let values = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else {
            throw PostgresStoreError(.internal, "credits_copy_progress holds a key that is not a JSON array: \(text)")
        }
        if values.isEmpty { return nil }
        return try values.map { value in
            if let text = value as? String { return text.databaseValue }
            if let number = value as? NSNumber { return number.int64Value.databaseValue }
            throw PostgresStoreError(.internal, "credits_copy_progress holds a key it cannot read: \(text)")
        }
    }
}
