/// A transfer as posting writes it: every column of `transfers`, bound in the order `insert` names them.
struct TransferRow {
    let id: Int64
    let key: String
    let hash: String
    let kind: TransferKind
    let debit: AccountID
    let credit: AccountID
    let amount: Credits
    let organisationID: String
    let money: Money
    let effectiveAt: Instant
    let recordedAt: Instant
    let references: TransferReferences
    let actor: String
    let balanceAfter: Int64

    static func insert(rows: Int) -> String {
        """
        INSERT INTO transfers (id, idempotency_key, content_hash, kind, debit_account, credit_account, amount,
            organisation_id, money_minor, currency, effective_at, recorded_at, cost_event_id, revolut_order_id,
            plan_period, team, investigation, operation, memo, actor, balance_after)
        VALUES \(repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows)
            .joined(separator: ", "))
        """
    }

    /// One row, or nothing when a transfer holds its key: the id when it was inserted.
    static let insertUnlessKeyTaken = insert(rows: 1) + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"

    func bind(_ row: inout SQLBinder) {
        row.add(id)
        row.add(key)
        row.add(hash)
        row.add(kind.rawValue)
        row.add(debit.rawValue)
        row.add(credit.rawValue)
        row.add(amount.microcredits)
        row.add(organisationID)
        row.add(money.minorUnits)
        row.add(money.currency.code)
        row.add(effectiveAt.millisecondsSinceEpoch)
        row.add(recordedAt.millisecondsSinceEpoch)
        row.add(references.costEventID)
        row.add(references.revolutOrderID)
        row.add(references.planPeriod)
        row.add(references.team)
        row.add(references.investigation)
        row.add(references.operation)
        row.add(references.memo)
        row.add(actor)
        row.add(balanceAfter)
    }
}

/// A grant as posting writes it: every column of `grants`, bound in the order `insert` names them.
struct GrantRow {
    let id: Int64
    let organisationID: String
    let source: GrantSource
    let transferID: Int64
    let credits: Credits
    let burnRank: Int
    let expiresAt: Instant?
    let grantedAt: Instant
    let cost: Money

    static func insert(rows: Int) -> String {
        """
        INSERT INTO grants (id, organisation_id, source, transfer_id, credits, remaining, priority, expires_at,
                            granted_at, cost_minor, currency)
        VALUES \(repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
        """
    }

    static let insertOne = insert(rows: 1)

    /// A new grant holds all its credits (`remaining`); draws from it are deferred (`PostingState`).
    func bind(_ row: inout SQLBinder) {
        row.add(id)
        row.add(organisationID)
        row.add(source.rawValue)
        row.add(transferID)
        row.add(credits.microcredits)
        row.add(credits.microcredits)
        row.add(Int64(burnRank))
        row.add(expiresAt?.millisecondsSinceEpoch)
        row.add(grantedAt.millisecondsSinceEpoch)
        row.add(cost.minorUnits)
        row.add(cost.currency.code)
    }
}

/// Transfers and grants posted but not yet written (`LedgerTransaction.appendTransfer`): a night's
/// top-ups, written many to a statement instead of two statements each, which on PostgreSQL were two
/// round trips per order.
struct AppendedRows {
    private var transfers: [TransferRow] = []
    private var grants: [GrantRow] = []

    var isEmpty: Bool { transfers.isEmpty && grants.isEmpty }

    mutating func append(_ row: TransferRow) {
        transfers.append(row)
    }

    mutating func append(_ row: GrantRow) {
        grants.append(row)
    }

    /// Writes every row, transfers first (a grant names its transfer), many to a statement.
    mutating func write(_ session: any PostingSession) throws {
        try Self.transferInsert.write(transfers, in: session) { $0.bind(&$1) }
        transfers.removeAll(keepingCapacity: true)
        try Self.grantInsert.write(grants, in: session) { $0.bind(&$1) }
        grants.removeAll(keepingCapacity: true)
    }

    private static let transferInsert = ChunkedInsert(TransferRow.insert(rows:))
    private static let grantInsert = ChunkedInsert(GrantRow.insert(rows:))
}

/// One INSERT of many rows to a statement: at most 64 (21 parameters a transfer, well inside both stores'
/// limits on parameters), as full statements of 64 and then at most one each of 32, 16, ..., 1 rows. So a
/// connection prepares seven statements per table, not one per number of rows (on SQLite each stays in
/// the connection's cache, a large program each), and writing n rows takes at most n / 64 + 7 statements:
/// a round trip each on PostgreSQL.
struct ChunkedInsert {
    static let rowsMax = 64
    private static let sizes = (0...6).map { rowsMax >> $0 }
    /// The statement for each of `sizes`.
    private let statements: [String]

    /// `insert(n)` is the statement inserting n rows.
    init(_ insert: (Int) -> String) {
        statements = Self.sizes.map(insert)
    }

    func write<Rows: Collection>(
        _ rows: Rows, in session: any PostingSession, bind: (Rows.Element, inout SQLBinder) -> Void
    ) throws {
        var rest = rows[...]
        while !rest.isEmpty {
            let index = Self.sizes.firstIndex { $0 <= rest.count }!
            let chunk = rest.prefix(Self.sizes[index])
            let written = try session.run(statements[index]) { row in
                for element in chunk { bind(element, &row) }
            }
            precondition(written == chunk.count, "every row of the statement is inserted")
            rest = rest.dropFirst(chunk.count)
        }
    }
}
