import GRDB

/// An organisation's balance and what it may spend.
public struct Balance: Sendable, Equatable, Codable {
    public let organisationID: String
    public let currency: Currency
    /// Credits on the organisation's account (negative in overdraft).
    public let available: Credits
    public let reservations: [Reservation]
    public let overdraftLimit: Credits

    /// Credits held back from work at `priority`: the reservations it may not spend into.
    public func reserved(against priority: Priority) -> Credits {
        Credits(microcredits: reservations.filter { !$0.admits(priority) }.reduce(0) { $0 + $1.credits.microcredits })
    }

    /// Total reserved credits (what unprioritised work may not touch).
    public var reserved: Credits { reserved(against: .unprioritised) }

    /// Credits work at `priority` may spend: available minus the reservations it may not use.
    /// May be negative (in overdraft, or when reservations exceed the balance).
    public func spendable(for priority: Priority) -> Credits {
        Credits(microcredits: available.microcredits - reserved(against: priority).microcredits)
    }
}

extension LedgerReader {
    public func balance(of organisationID: String) throws -> Balance {
        guard let row = try Row.fetchOne(
            db,
            cached: """
                SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted AS available
                FROM organisations o JOIN accounts a ON a.organisation_id = o.id
                WHERE o.id = ?
                """,
            arguments: [organisationID])
        else { throw PostingRejection.organisationNotFound(organisationID) }
        return Balance(
            organisationID: organisationID, currency: Currency(code: row["currency"])!,
            available: Credits(microcredits: row["available"]), reservations: try reservations(of: organisationID),
            overdraftLimit: Credits(microcredits: row["overdraft_limit"]))
    }

    public func balances() throws -> [Balance] {
        try String.fetchAll(db, cached: "SELECT id FROM organisations ORDER BY id").map { try balance(of: $0) }
    }

    public func transfer(id: Int64) throws -> Transfer? {
        try Row.fetchOne(db, cached: "\(Self.transferSelect) WHERE t.id = ?", arguments: [id]).map(Self.transfer)
    }

    public func transfer(idempotencyKey: String) throws -> Transfer? {
        try Row.fetchOne(db, cached: "\(Self.transferSelect) WHERE t.idempotency_key = ?", arguments: [idempotencyKey])
            .map(Self.transfer)
    }

    /// The top-up that credited a Revolut order, if any.
    public func topUp(forRevolutOrder orderID: String) throws -> Transfer? {
        try Row.fetchOne(
            db, cached: "\(Self.transferSelect) WHERE t.kind = 'top_up' AND t.revolut_order_id = ?", arguments: [orderID]
        ).map(Self.transfer)
    }

    /// An organisation's transfers in posting order, optionally filtered, after a cursor
    /// (`afterID`, exclusive), at most `limit` rows.
    public func history(
        of organisationID: String, from: Instant? = nil, to: Instant? = nil, kinds: Set<TransferKind> = [],
        afterID: Int64? = nil, limit: Int = 1000
    ) throws -> [Transfer] {
        var conditions = ["t.organisation_id = ?"]
        var arguments: StatementArguments = [organisationID]
        if let from { conditions.append("t.effective_at >= ?"); arguments += [from.millisecondsSinceEpoch] }
        if let to { conditions.append("t.effective_at < ?"); arguments += [to.millisecondsSinceEpoch] }
        if let afterID { conditions.append("t.id > ?"); arguments += [afterID] }
        if !kinds.isEmpty {
            let sorted = kinds.map(\.rawValue).sorted()
            conditions.append("t.kind IN (\(sorted.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(sorted)
        }
        arguments += [limit]
        return try Row.fetchAll(
            db, sql: "\(Self.transferSelect) WHERE \(conditions.joined(separator: " AND ")) ORDER BY t.id LIMIT ?",
            arguments: arguments
        ).map(Self.transfer)
    }

    public func grant(id: Int64) throws -> Grant? {
        try Row.fetchOne(db, cached: "SELECT * FROM grants WHERE id = ?", arguments: [id]).map(Self.grant)
    }

    public func grants(of organisationID: String) throws -> [Grant] {
        try Row.fetchAll(db, cached: "SELECT * FROM grants WHERE organisation_id = ? ORDER BY id", arguments: [organisationID])
            .map(Self.grant)
    }

    /// Grants with credits left that are not expired at `instant`, in burn-down order:
    /// priority, soonest expiry (none last), oldest, id.
    public func spendableGrants(of organisationID: String, at instant: Instant) throws -> [Grant] {
        try Row.fetchAll(
            db,
            cached: """
                SELECT * FROM grants
                WHERE organisation_id = ? AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?)
                ORDER BY priority, expires_at IS NULL, expires_at, granted_at, id
                """,
            arguments: [organisationID, instant.millisecondsSinceEpoch]
        ).map(Self.grant)
    }

    /// Grants with credits left whose expiry is at or before `instant`.
    public func grantsDueToExpire(by instant: Instant) throws -> [Grant] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM grants WHERE remaining > 0 AND expires_at <= ? ORDER BY expires_at, id",
            arguments: [instant.millisecondsSinceEpoch]
        ).map(Self.grant)
    }

    public func draws(ofTransfer transferID: Int64) throws -> [GrantDraw] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.transfer_id, d.grant_id, d.credits, d.cost_minor, t.currency
                FROM grant_draws d JOIN transfers t ON t.id = d.transfer_id
                WHERE d.transfer_id = ? ORDER BY d.id
                """,
            arguments: [transferID]
        ).map { row in
            GrantDraw(
                transferID: row["transfer_id"], grantID: row["grant_id"], credits: Credits(microcredits: row["credits"]),
                cost: Money(minorUnits: row["cost_minor"], currency: Currency(code: row["currency"])!))
        }
    }

    /// The highest transfer id: a cheap position of the ledger, which only ever grows.
    public func ledgerPosition() throws -> Int64 {
        try Int64.fetchOne(db, cached: "SELECT COALESCE(MAX(id), 0) FROM transfers") ?? 0
    }

    static let transferSelect = """
        SELECT t.*, g.id AS grant_id FROM transfers t LEFT JOIN grants g ON g.transfer_id = t.id
        """

    static func transfer(_ row: Row) -> Transfer {
        guard let kind = TransferKind(rawValue: row["kind"]), let currency = Currency(code: row["currency"]) else {
            preconditionFailure("transfer \(row["id"] as Int64) holds a kind or currency the schema should refuse")
        }
        return Transfer(
            id: row["id"], idempotencyKey: row["idempotency_key"], kind: kind, organisationID: row["organisation_id"],
            debitAccount: row["debit_account"], creditAccount: row["credit_account"],
            amount: Credits(microcredits: row["amount"]), money: Money(minorUnits: row["money_minor"], currency: currency),
            effectiveAt: Instant(millisecondsSinceEpoch: row["effective_at"]),
            recordedAt: Instant(millisecondsSinceEpoch: row["recorded_at"]),
            references: TransferReferences(
                costEventID: row["cost_event_id"], revolutOrderID: row["revolut_order_id"],
                planPeriod: row["plan_period"], team: row["team"], investigation: row["investigation"],
                operation: row["operation"], memo: row["memo"]),
            grantID: row["grant_id"])
    }

    static func grant(_ row: Row) -> Grant {
        guard let source = GrantSource(rawValue: row["source"]), let currency = Currency(code: row["currency"]) else {
            preconditionFailure("grant \(row["id"] as Int64) holds a source or currency the schema should refuse")
        }
        let expiresAt: Int64? = row["expires_at"]
        return Grant(
            id: row["id"], organisationID: row["organisation_id"], source: source, transferID: row["transfer_id"],
            credits: Credits(microcredits: row["credits"]), remaining: Credits(microcredits: row["remaining"]),
            priority: row["priority"], expiresAt: expiresAt.map(Instant.init(millisecondsSinceEpoch:)),
            grantedAt: Instant(millisecondsSinceEpoch: row["granted_at"]),
            cost: Money(minorUnits: row["cost_minor"], currency: currency))
    }
}
