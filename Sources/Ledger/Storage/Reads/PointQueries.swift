import GRDB
import GRDBSQLite

// The point queries the live service makes on every request (an API key, a balance, the credit
// gate's view), written once in portable SQL so they run the same on a ledger connection (inside a
// transaction, through `LedgerReader`), on a SQLite point-read connection (outside any transaction,
// through `PointReader`) and on a PostgreSQL connection. Each is one statement, so one consistent
// state even without a transaction around it.

/// Where a point query runs: one statement whose parameters `bind` sets, every row mapped by `read`.
/// A `PostingSession` (either store, inside a transaction) or a SQLite point-read connection.
protocol PointQuerySource {
    func all<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> [Value]
}

/// The current row of a statement being stepped. Column types are those the schema declares
/// (STRICT tables), so a mismatch is a bug, not bad input.
struct SQLiteRow {
    let statement: SQLiteStatement

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func int64OrNil(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func textOrNil(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
}

enum PointQueries {
    static let activeAPIKeySQL = """
        SELECT organisation_id, label, created_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL
        """

    static func activeAPIKey(hash: String, on source: some PointQuerySource) throws -> APIKeyRecord? {
        try source.all(activeAPIKeySQL, bind: { $0.add(hash) }) { row in
            APIKeyRecord(
                keyHash: hash, organisationID: row.textOrNil(0), label: row.text(1),
                createdAt: Instant(millisecondsSinceEpoch: row.int64(2)), revokedAt: nil)
        }.first
    }

    /// One row per reservation (one row with NULLs when there is none), by reservation id; the
    /// first six columns are those `balance(_:rows:)` reads. The account is looked up by its id (?2,
    /// `AccountID.available`): joined by `organisation_id`, which has no index, SQLite scanned every
    /// account and sorted the reservations for each balance.
    static let balanceSQL = """
        SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted, r.id, r.credits, r.max_priority
        FROM organisations o
        JOIN accounts a ON a.id = ?2 AND a.organisation_id = o.id
        LEFT JOIN reservations r ON r.organisation_id = o.id
        WHERE o.id = ?1
        ORDER BY r.id
        """

    static func balance(of organisationID: String, on source: some PointQuerySource) throws -> Balance {
        let rows = try source.all(
            balanceSQL,
            bind: {
                $0.add(organisationID)
                $0.add(AccountID.available(organisationID: organisationID).rawValue)
            },
            read: { BalanceRow($0) })
        return try balance(organisationID, rows: rows)
    }

    /// Column 6: whether the spend's transfer key (?1) or hold key (?7) is taken already (a retry).
    /// Columns 8 and 9: what is left on grants expired by ?5 whose expiry is not posted yet (the posting
    /// leaves them out of what a spend effective then may use), and what holds open at ?6 promise.
    /// `balanceSQL` with column 6: what holds open at ?3 promise.
    static let balanceHoldingSQL = """
        SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted, r.id, r.credits, r.max_priority,
            (SELECT CAST(COALESCE(SUM(h.credits), 0) AS BIGINT) FROM holds h
                WHERE h.organisation_id = o.id AND h.state = 'open' AND h.expires_at > ?3)
        FROM organisations o
        JOIN accounts a ON a.id = ?2 AND a.organisation_id = o.id
        LEFT JOIN reservations r ON r.organisation_id = o.id
        WHERE o.id = ?1
        ORDER BY r.id
        """

    /// The organisation's balance with what its holds open at `instant` promise (`Balance.held`).
    static func balance(
        of organisationID: String, holdsAt instant: Instant, on source: some PointQuerySource
    ) throws -> Balance {
        let rows = try source.all(
            balanceHoldingSQL,
            bind: {
                $0.add(organisationID)
                $0.add(AccountID.available(organisationID: organisationID).rawValue)
                $0.add(instant.millisecondsSinceEpoch)
            },
            read: { row in (balance: BalanceRow(row), held: row.int64(6)) })
        return try balance(organisationID, rows: rows.map(\.balance)).holding(Credits(microcredits: rows[0].held))
    }

    static let gateViewSQL = """
        SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted, r.id, r.credits, r.max_priority,
            EXISTS (SELECT 1 FROM transfers WHERE idempotency_key = ?1)
                OR EXISTS (SELECT 1 FROM holds WHERE idempotency_key = ?7),
            (SELECT priority FROM investigations i WHERE i.organisation_id = o.id AND i.id = ?2),
            (SELECT CAST(COALESCE(SUM(g.remaining), 0) AS BIGINT) FROM grants g
                WHERE g.organisation_id = o.id AND g.remaining > 0 AND g.expires_at <= ?5),
            (SELECT CAST(COALESCE(SUM(h.credits), 0) AS BIGINT) FROM holds h
                WHERE h.organisation_id = o.id AND h.state = 'open' AND h.expires_at > ?6)
        FROM organisations o
        JOIN accounts a ON a.id = ?4 AND a.organisation_id = o.id
        LEFT JOIN reservations r ON r.organisation_id = o.id
        WHERE o.id = ?3
        ORDER BY r.id
        """

    /// The gate's view for a spend effective at `spendableAt`, with holds as they stand at `now`: the
    /// balance the posting would judge (`OrganisationPostingState.balance(spendableAt:)`) less what
    /// open holds promise.
    static func gateView(
        organisationID: String, idempotencyKey: String?, holdIdempotencyKey: String? = nil, investigationID: String?,
        spendableAt: Instant, now: Instant, on source: some PointQuerySource
    ) throws -> GateView {
        let rows = try source.all(
            gateViewSQL,
            bind: {
                $0.add(idempotencyKey)
                $0.add(investigationID)
                $0.add(organisationID)
                $0.add(AccountID.available(organisationID: organisationID).rawValue)
                $0.add(spendableAt.millisecondsSinceEpoch)
                $0.add(now.millisecondsSinceEpoch)
                $0.add(holdIdempotencyKey)
            },
            read: { row in
                (balance: BalanceRow(row), alreadyPosted: row.int64(6) != 0, priority: row.int64OrNil(7),
                 lapsed: row.int64(8), held: row.int64(9))
            })
        let stored = try balance(organisationID, rows: rows.map(\.balance))
        let balance = Balance(
            organisationID: organisationID, currency: stored.currency,
            available: try stored.available.subtracting(Credits(microcredits: rows[0].lapsed)),
            reservations: stored.reservations, overdraftLimit: stored.overdraftLimit,
            held: Credits(microcredits: rows[0].held))
        return GateView(
            balance: balance, alreadyPosted: rows[0].alreadyPosted,
            investigationPriority: rows[0].priority.flatMap { Priority(rank: Int($0)) })
    }

    /// The first six columns of `balanceSQL`'s rows.
    struct BalanceRow {
        let currency: String
        let overdraftLimit: Int64
        let available: Int64
        let reservation: Reservation?

        init(_ row: some SQLColumns) {
            currency = row.text(0)
            overdraftLimit = row.int64(1)
            available = row.int64(2)
            reservation = row.textOrNil(3).map { id in
                Reservation(
                    id: id, credits: Credits(microcredits: row.int64(4)),
                    maxPriority: Priority(rank: Int(row.int64(5))) ?? .p1)
            }
        }
    }

    static func balance(_ organisationID: String, rows: [BalanceRow]) throws -> Balance {
        guard let first = rows.first else { throw PostingRejection.organisationNotFound(organisationID) }
        let currency = try Currency(stored: first.currency, table: "organisations")
        return Balance(
            organisationID: organisationID, currency: currency, available: Credits(microcredits: first.available),
            reservations: rows.compactMap(\.reservation), overdraftLimit: Credits(microcredits: first.overdraftLimit))
    }
}

/// What the live credit gate asks before a spend, read by one statement: the organisation's balance
/// (less what open holds promise), whether a transfer or a hold already holds the request's
/// idempotency key (a retry, which passes to get its earlier answer), and the
/// priority of the spend's investigation (nil when the organisation has no such investigation).
public struct GateView: Sendable, Equatable {
    public let balance: Balance
    public let alreadyPosted: Bool
    public let investigationPriority: Priority?
}

extension DatabaseError {
    /// The error of a failed `sqlite3_step`, with the connection's message.
    init(statement: SQLiteStatement, code: Int32, sql: String) {
        self.init(
            resultCode: ResultCode(rawValue: code),
            message: sqlite3_db_handle(statement).map { String(cString: sqlite3_errmsg($0)) }, sql: sql)
    }
}
