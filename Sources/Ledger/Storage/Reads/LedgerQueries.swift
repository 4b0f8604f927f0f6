import Foundation
import GRDB

extension LedgerReader {
    /// The organisation's balance and reservations, read by one statement (so one consistent state
    /// even outside a transaction, see `LedgerDatabase.pointRead`). Throws
    /// `PostingRejection.organisationNotFound` for an unknown organisation.
    public func balance(of organisationID: String) throws -> Balance {
        try PointQueries.balance(of: organisationID, on: sql)
    }

    /// What the live credit gate asks before a spend, in one statement (see `GateView`).
    public func gateView(
        organisationID: String, idempotencyKey: String?, holdIdempotencyKey: String? = nil, investigationID: String?,
        spendableAt: Instant, now: Instant
    ) throws -> GateView {
        try PointQueries.gateView(
            organisationID: organisationID, idempotencyKey: idempotencyKey, holdIdempotencyKey: holdIdempotencyKey,
            investigationID: investigationID,
            spendableAt: spendableAt, now: now, on: sql)
    }

    public func balances() throws -> [Balance] {
        try BalanceQueries.balances(on: sql)
    }

    // Transfers are appended, never deferred: these lookups leave deferred balances deferred.
    public func transfer(id: Int64) throws -> Transfer? {
        try Self.transfer(id: id, on: sqlReadingNoBalances)
    }

    /// `transfer(id:)` in portable SQL (either store).
    static func transfer(id: Int64, on sql: some SQLSession) throws -> Transfer? {
        try sql.record("\(transferSelect) WHERE t.id = ?", [.integer(id)]).map { try transfer($0) }
    }

    public func transfer(idempotencyKey: String) throws -> Transfer? {
        try sqlReadingNoBalances.record("\(Self.transferSelect) WHERE t.idempotency_key = ?", [.text(idempotencyKey)])
            .map { try Self.transfer($0) }
    }

    /// The top-up that credited a Revolut order, if any.
    ///
    /// Asked for every completed order of a night, twice (matching, then posting), and almost always
    /// not credited yet: one query of the index, its row read in place only when there is one (a
    /// round trip each on PostgreSQL, so not a probe and then a read).
    public func topUp(forRevolutOrder orderID: String) throws -> Transfer? {
        try sqlReadingNoBalances.first(
            "\(Self.transferSelect) WHERE t.kind = 'top_up' AND t.revolut_order_id = ?", bind: { $0.add(orderID) },
            read: { try Self.transfer($0) })
    }

    /// An organisation's transfers in posting order, optionally filtered, after a cursor
    /// (`afterID`, exclusive), at most `limit` rows.
    public func history(
        of organisationID: String, from: Instant? = nil, to: Instant? = nil, kinds: Set<TransferKind> = [],
        afterID: Int64? = nil, limit: Int = 1000, money: TransferMoney = .asPosted
    ) throws -> [Transfer] {
        try Self.history(
            of: organisationID, from: from, to: to, kinds: kinds, afterID: afterID, limit: limit, money: money, on: sql)
    }

    /// `history(of:...)` in portable SQL (either store).
    static func history(
        of organisationID: String, from: Instant?, to: Instant?, kinds: Set<TransferKind>, afterID: Int64?,
        limit: Int, money: TransferMoney, on sql: some SQLSession
    ) throws -> [Transfer] {
        var conditions = ["t.organisation_id = ?"]
        var arguments: [SQLValue] = [.text(organisationID)]
        if let from { conditions.append("t.effective_at >= ?"); arguments.append(.integer(from.millisecondsSinceEpoch)) }
        if let to { conditions.append("t.effective_at < ?"); arguments.append(.integer(to.millisecondsSinceEpoch)) }
        if let afterID { conditions.append("t.id > ?"); arguments.append(.integer(afterID)) }
        if !kinds.isEmpty {
            let sorted = kinds.map(\.rawValue).sorted()
            conditions.append("t.kind IN (\(sorted.map { _ in "?" }.joined(separator: ", ")))")
            arguments += sorted.map(SQLValue.text)
        }
        arguments.append(SQLValue(limit))
        return try sql.records(
            "\(transferSelect(money)) WHERE \(conditions.joined(separator: " AND ")) ORDER BY t.id LIMIT ?", arguments
        ).map { try transfer($0) }
    }

    public func grant(id: Int64) throws -> Grant? {
        try Self.grant(id: id, on: sql)
    }

    public func grants(of organisationID: String) throws -> [Grant] {
        try Self.grants(of: organisationID, on: sql)
    }

    /// `grant(id:)` in portable SQL (either store).
    static func grant(id: Int64, on sql: some SQLSession) throws -> Grant? {
        try sql.record("\(grantSelect) WHERE id = ?", [.integer(id)]).map { try grant($0) }
    }

    /// `grants(of:)` in portable SQL (either store).
    static func grants(of organisationID: String, on sql: some SQLSession) throws -> [Grant] {
        try sql.records("\(grantSelect) WHERE organisation_id = ? ORDER BY id", [.text(organisationID)]).map { try grant($0) }
    }

    /// Grants with credits left that are not expired at `instant`, in burn-down order.
    public func spendableGrants(of organisationID: String, at instant: Instant) throws -> [Grant] {
        try grantsWithCreditsLeft(of: organisationID).filter { $0.isSpendable(at: instant) }
    }

    /// Grants with credits left (expired or not), in burn-down order: burn rank, soonest expiry
    /// (none last), oldest, id.
    func grantsWithCreditsLeft(of organisationID: String) throws -> [Grant] {
        try Self.grantsWithCreditsLeft(of: organisationID, on: sql)
    }

    static func grantsWithCreditsLeft(of organisationID: String, on sql: some SQLSession) throws -> [Grant] {
        try sql.records(
            """
            \(grantSelect)
            WHERE organisation_id = ? AND remaining > 0
            ORDER BY priority, expires_at IS NULL, expires_at, granted_at, id
            """, [.text(organisationID)]
        ).map(grant)
    }

    /// Grants with credits left whose expiry is at or before `instant`.
    public func grantsDueToExpire(by instant: Instant) throws -> [Grant] {
        try sql.records(
            "\(Self.grantSelect) WHERE remaining > 0 AND expires_at <= ? ORDER BY expires_at, id",
            [.integer(instant.millisecondsSinceEpoch)]
        ).map { try Self.grant($0) }
    }

    /// Every draw on one grant, oldest first: which outflows (deductions, expiries, reversals, negative
    /// adjustments, overdraft settlements) took its credits.
    public func draws(ofGrant grantID: Int64) throws -> [GrantDraw] {
        try Self.draws(ofGrant: grantID, on: sql)
    }

    /// The draws of one outflow, oldest first: which grants funded it (`grantID` nil: overdraft).
    public func draws(ofTransfer transferID: Int64) throws -> [GrantDraw] {
        try Self.draws(ofTransfer: transferID, on: sql)
    }

    /// `draws(ofGrant:)` in portable SQL (either store).
    static func draws(ofGrant grantID: Int64, on sql: some SQLSession) throws -> [GrantDraw] {
        try draws(where: "d.grant_id = ?", grantID, on: sql)
    }

    /// `draws(ofTransfer:)` in portable SQL (either store).
    static func draws(ofTransfer transferID: Int64, on sql: some SQLSession) throws -> [GrantDraw] {
        try draws(where: "d.transfer_id = ?", transferID, on: sql)
    }

    private static func draws(where condition: String, _ id: Int64, on sql: some SQLSession) throws -> [GrantDraw] {
        try sql.records(
            """
            SELECT d.transfer_id, d.grant_id, d.credits, d.cost_minor, t.currency
            FROM grant_draws d JOIN transfers t ON t.id = d.transfer_id
            WHERE \(condition) ORDER BY d.id
            """,
            [.integer(id)]
        ).map { row in
            let currency = try Currency(stored: row.text(4), table: "transfers")
            return GrantDraw(
                transferID: row.int64(0), grantID: row.int64OrNil(1), credits: Credits(microcredits: row.int64(2)),
                cost: Money(minorUnits: row.int64(3), currency: currency))
        }
    }

    /// The highest transfer id: a cheap position of the ledger, which only ever grows.
    public func ledgerPosition() throws -> Int64 {
        try sql.integer("SELECT COALESCE(MAX(id), 0) FROM transfers") ?? 0
    }

    /// `transferSelect` with the money column `money` asks for.
    static func transferSelect(_ money: TransferMoney) -> String {
        switch money {
        case .asPosted: transferSelect
        case .includingSettlements: transferSelectIncludingSettlements
        }
    }

    /// An outflow's money as the cost of its draws (see `TransferMoney.includingSettlements`); an
    /// inflow (it created a grant, `g`) keeps the price paid.
    static let transferSelectIncludingSettlements = transferSelect.replacingOccurrences(
        of: "t.money_minor,", with: "CASE WHEN g.id IS NULL THEN \(drawsCost) ELSE t.money_minor END,")

    /// What outflow `t` cost, settlements included: the cost of all its draws. Only an outflow that
    /// ran into overdraft (it has an uncovered draw) can have draws beyond those it made when posted,
    /// and those cost exactly its recorded money (`verify`: outflowMoneyEqualsDrawCost); so the draws
    /// are summed only for those, found through the small partial index of uncovered draws, and the
    /// rest keep `money_minor` (summing every deduction's draws made a report's passes ~4x slower).
    static let drawsCost = """
        (CASE WHEN EXISTS (SELECT 1 FROM grant_draws u WHERE u.organisation_id = t.organisation_id
                               AND u.transfer_id = t.id AND u.grant_id IS NULL)
              THEN (SELECT CAST(COALESCE(SUM(d.cost_minor), 0) AS BIGINT) FROM grant_draws d WHERE d.transfer_id = t.id)
              ELSE t.money_minor END)
        """

    static let transferSelect = """
        SELECT t.id, t.idempotency_key, t.kind, t.organisation_id, t.debit_account, t.credit_account, t.amount,
            t.money_minor, t.currency, t.effective_at, t.recorded_at, t.cost_event_id, t.revolut_order_id,
            t.plan_period, t.team, t.investigation, t.operation, t.memo, g.id, t.actor, t.balance_after
        FROM transfers t LEFT JOIN grants g ON g.transfer_id = t.id
        """

    /// Decodes a row of `transferSelect` by column position (decoding by name costs a lookup per column).
    static func transfer(_ row: some SQLColumns) throws -> Transfer {
        let kind = try TransferKind(stored: row.text(2), table: "transfers", column: "kind")
        let currency = try Currency(stored: row.text(8), table: "transfers")
        let actor = try Actor(stored: row.text(19))
        return Transfer(
            id: row.int64(0), idempotencyKey: row.text(1), kind: kind, organisationID: row.text(3),
            debitAccount: row.text(4), creditAccount: row.text(5),
            amount: Credits(microcredits: row.int64(6)), money: Money(minorUnits: row.int64(7), currency: currency),
            effectiveAt: Instant(millisecondsSinceEpoch: row.int64(9)),
            recordedAt: Instant(millisecondsSinceEpoch: row.int64(10)),
            references: TransferReferences(
                costEventID: row.textOrNil(11), revolutOrderID: row.textOrNil(12), planPeriod: row.textOrNil(13),
                team: row.textOrNil(14), investigation: row.textOrNil(15), operation: row.textOrNil(16),
                memo: row.textOrNil(17)),
            actor: actor, balanceAfter: Credits(microcredits: row.int64(20)), grantID: row.int64OrNil(18))
    }

    static let grantSelect = """
        SELECT id, organisation_id, source, transfer_id, credits, remaining, priority, expires_at, granted_at,
            cost_minor, currency
        FROM grants
        """

    /// Decodes a row of `grantSelect` by column position (decoding by name costs a lookup per column).
    static func grant(_ row: some SQLColumns) throws -> Grant {
        let source = try GrantSource(stored: row.text(2), table: "grants", column: "source")
        let currency = try Currency(stored: row.text(10), table: "grants")
        return Grant(
            id: row.int64(0), organisationID: row.text(1), source: source, transferID: row.int64(3),
            credits: Credits(microcredits: row.int64(4)), remaining: Credits(microcredits: row.int64(5)),
            burnRank: Int(row.int64(6)), expiresAt: row.int64OrNil(7).map(Instant.init(millisecondsSinceEpoch:)),
            grantedAt: Instant(millisecondsSinceEpoch: row.int64(8)),
            cost: Money(minorUnits: row.int64(9), currency: currency))
    }
}
