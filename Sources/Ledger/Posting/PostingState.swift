import Foundation

/// What spending needs to know about an organisation (its balance, reservations, overdraft limit
/// and the grants it can burn, in burn-down order), read from the database once per transaction
/// and kept current by the spends themselves; and the balance changes postings have not written yet.
///
/// Why: a batch run posts hundreds of thousands of deductions in one transaction, and reading the
/// balance, the reservations and every spendable grant back from SQLite for each of them was most
/// of the cost of posting; after that, updating the same few account and grant rows once per
/// transfer was a large part of what was left. So postings insert their transfer and draw rows at
/// once but defer the account totals (`debits_posted`, `credits_posted`) and grants' `remaining`:
/// `deferred` sums them per row, and `flush` writes each sum with one UPDATE.
///
/// The rule that keeps the database the truth: nothing reads SQL while changes are deferred.
/// `LedgerTransaction.db` and the readers a transaction hands out flush before every use; only the
/// posting code's own appends (`LedgerTransaction.session`) run with changes still deferred, and
/// they neither read nor write accounts or grants. The transaction flushes before it commits. A
/// savepoint that rolls back (a dry run, a failed unit of a group commit) puts `deferred` back as
/// it was when the savepoint began (see `savepointStarted` / `savepointRolledBack`), since any
/// flush inside it was rolled back too.
///
/// A spend, a grant, an expiry or a reversal updates the organisation's state in place; every
/// other change to an organisation's grants, balance or reservations (configuration) forgets the
/// organisation's state, so the next spend reads it afresh (after a flush).
final class PostingState {
    private var organisations: [String: OrganisationPostingState] = [:]
    private var deferred = DeferredBalances()
    /// Transfers and grants appended, not yet written: written before any other statement reads or writes
    /// the ledger's postings (`writeAppends`).
    private var appends = AppendedRows()
    /// The budget rule's memory for this transaction (budgets, periods' use).
    let budgets = BudgetBook()
    /// Each organisation account's balance after the last transfer this transaction posted to it, read
    /// once (stored totals plus what is deferred) and then kept by the postings: what each new transfer
    /// records as `balance_after` without a read per transfer.
    private var runningBalances: [String: Int64] = [:]
    /// The organisations this transaction locked (`PostingSession.lockOrganisation`) before reading
    /// what it decides on.
    private var locked: Set<String> = []

    /// Organisations this transaction found owing no overdraft (`LedgerReader.owedCredits` read nothing),
    /// until an uncovered draw is recorded for one (`mayOwe`). Every grant asks before settling overdraft,
    /// and a night credits a hundred thousand top-ups: a query each, a round trip each on PostgreSQL.
    private var owingNothing: Set<String> = []

    /// Each organisation's currency and overdraft limit, as this transaction read them
    /// (`LedgerTransaction.organisationFacts`); forgotten with the organisation's state.
    var facts: [String: LedgerTransaction.OrganisationFacts] = [:]

    /// The ids of the next transfer, grant and draw this transaction adds (`LedgerRowIDs`).
    private var rowIDs: LedgerRowIDs?

    /// The id the next row of `table` gets: one more than the largest, as SQLite numbers rows, and given
    /// explicitly on both stores, so a ledger's ids (which its digest covers) do not depend on the store
    /// or on transactions rolled back before it: PostgreSQL's identity sequences skip the numbers a
    /// rolled-back insert took. Call `added(to:)` once the row is in.
    func nextID(of table: LedgerRowIDs.Table, in session: any PostingSession) throws -> Int64 {
        if rowIDs == nil { rowIDs = try LedgerRowIDs.read(in: session) }
        return rowIDs!.next(table)
    }

    /// A row of `table` took the id `nextID(of:)` gave.
    func added(to table: LedgerRowIDs.Table) {
        rowIDs!.advance(table)
    }

    /// Locks the organisation for this transaction, once (see `PostingSession.lockOrganisation`).
    func lock(_ organisationID: String, in session: any PostingSession) throws {
        guard !locked.contains(organisationID) else { return }
        try session.lockOrganisation(organisationID)
        locked.insert(organisationID)
    }

    /// The balance of `account` once a transfer moving `signed` micro-credits (positive into it) is
    /// added: what the transfer records as `balance_after`. Call `posted(balanceAfter:to:)` once the
    /// transfer is written.
    func balance(
        of account: AccountID, organisationID: String, after signed: Int64, in session: any PostingSession
    ) throws -> Int64 {
        let key = account.rawValue
        let before: Int64
        if let running = runningBalances[key] {
            before = running
        } else {
            try lock(organisationID, in: session)
            guard let stored = try session.first(
                "SELECT credits_posted - debits_posted FROM accounts WHERE id = ?", bind: { $0.add(key) },
                read: { $0.int64(0) })
            else { preconditionFailure("account \(key) must exist before a transfer posts to it") }
            let pending = deferred.accounts[key] ?? (debits: 0, credits: 0)
            before = try Checked.add(stored, Checked.subtract(pending.credits, pending.debits))
        }
        return try Checked.add(before, signed)
    }

    /// Records the balance a transfer just written left `account` with.
    func posted(balanceAfter: Int64, to account: AccountID) {
        runningBalances[account.rawValue] = balanceAfter
    }

    /// Changes the organisation's state in place if this transaction holds it (a posting that
    /// knows exactly what it did to the balance and grants keeps the state current instead of
    /// making the next spend read it all back); returning false forgets it instead.
    func ifKnown(_ organisationID: String, _ change: (inout OrganisationPostingState) throws -> Bool) rethrows {
        guard organisations[organisationID] != nil else { return }
        if try !change(&organisations[organisationID]!) { organisations[organisationID] = nil }
    }

    /// Runs `body` on the organisation's state in place (read first if this transaction has not
    /// yet), so a spend never copies the organisation's grants.
    func withState<T>(
        of organisationID: String, in session: any PostingSession, _ body: (inout OrganisationPostingState) throws -> T
    ) throws -> T {
        if organisations[organisationID] == nil {
            try lock(organisationID, in: session)
            try flush(session)
            organisations[organisationID] = try OrganisationPostingState.read(organisationID, from: session)
        }
        return try body(&organisations[organisationID]!)
    }

    /// The overdraft `organisationID` owes, oldest outflow first: read (`LedgerReader.owedCredits`) unless
    /// this transaction already found it owes nothing and has recorded no uncovered draw for it since.
    func owedCredits(of organisationID: String, in session: any PostingSession) throws -> [OwedCredits] {
        guard !owingNothing.contains(organisationID) else { return [] }
        let owed = try LedgerReader.owedCredits(of: organisationID, on: session)
        if owed.isEmpty { owingNothing.insert(organisationID) }
        return owed
    }

    /// An uncovered draw (overdraft) was recorded for the organisation: what it owes must be read again.
    func mayOwe(_ organisationID: String) {
        owingNothing.remove(organisationID)
    }

    func forget(_ organisationID: String) {
        owingNothing.remove(organisationID)
        organisations[organisationID] = nil
        facts[organisationID] = nil
        budgets.forget(organisationID)
    }

    func forgetAll() {
        owingNothing.removeAll()
        organisations.removeAll()
        facts.removeAll()
        budgets.forgetAll()
    }

    /// The budget rule for `spend` (`BudgetBook.check`), counting what this transaction charged and
    /// has not written yet.
    func checkBudgets(_ spend: BudgetedSpend, held: ScopeHolds, in session: any PostingSession) throws -> BudgetCheck {
        try budgets.check(spend, held: held, pending: deferred.scopeDays, in: session)
    }

    /// Usage charged on `day` of its organisation: added to the days of the scopes a budget measures
    /// (`ScopeUse`) by the next flush, or sooner: a night's usage can touch hundreds of thousands of
    /// scope days (44 MB held to the end of a 1M-event apply), so they are written whenever
    /// `scopeDaysHeldMax` are waiting. Writing early is the same sums (each row adds), and a savepoint
    /// rolled back takes its rows back with it.
    func charged(_ spend: BudgetedSpend, day: Int, in session: any PostingSession) throws {
        let scopes = try budgets.measuredScopes(of: spend, in: session)
        guard !scopes.isEmpty else { return }
        try deferred.charge(spend, to: scopes, day: day)
        try budgets.recorded(spend, day: day)
        if deferred.scopeDays.count >= Self.scopeDaysHeldMax { try deferred.writeScopeDays(session) }
    }

    static let scopeDaysHeldMax = 16_384

    /// A transfer's two legs, to be added to the accounts' totals by the next flush.
    func deferPosting(_ amount: Credits, debit: AccountID, credit: AccountID) throws {
        try deferred.post(amount.microcredits, debit: debit.rawValue, credit: credit.rawValue)
    }

    /// A draw of `credits` from a grant, to be taken off its `remaining` by the next flush.
    func deferDraw(_ credits: Credits, fromGrant grantID: Int64) throws {
        try deferred.draw(credits.microcredits, fromGrant: grantID)
    }

    var hasDeferredChanges: Bool { !deferred.isEmpty || !appends.isEmpty }

    /// A transfer to be inserted with the others appended (`LedgerTransaction.appendTransfer`).
    func append(_ row: TransferRow) {
        appends.append(row)
    }

    /// A grant to be inserted with the others appended, after the transfers.
    func append(_ row: GrantRow) {
        appends.append(row)
    }

    /// Writes the appended transfers and grants, many to a statement. Posting calls it before any of its
    /// own statements that read or write transfers, grants or draws; `flush` (so every reader) calls it too.
    func writeAppends(_ session: any PostingSession) throws {
        guard !appends.isEmpty else { return }
        try appends.write(session)
    }

    /// Writes every deferred change: the appended rows, then one UPDATE per account and per grant touched
    /// since the last flush. Each row leaves `deferred` as its UPDATE succeeds, so what is deferred plus
    /// what is written is always every posting, even if an UPDATE fails.
    func flush(_ session: any PostingSession) throws {
        try writeAppends(session)
        guard !deferred.isEmpty else { return }
        for (accountID, totals) in deferred.accounts.sorted(by: { $0.key < $1.key }) {
            let changed = try session.run(
                "UPDATE accounts SET debits_posted = debits_posted + ?, credits_posted = credits_posted + ? WHERE id = ?"
            ) { row in
                row.add(totals.debits)
                row.add(totals.credits)
                row.add(accountID)
            }
            precondition(changed == 1, "account \(accountID) must exist")
            deferred.accounts[accountID] = nil
        }
        for (grantID, drawn) in deferred.grants.sorted(by: { $0.key < $1.key }) {
            let changed = try session.run("UPDATE grants SET remaining = remaining - ? WHERE id = ? AND remaining >= ?") { row in
                row.add(drawn)
                row.add(grantID)
                row.add(drawn)
            }
            precondition(changed == 1, "grant \(grantID) must hold the credits drawn from it")
            deferred.grants[grantID] = nil
        }
        try deferred.scopeDays.write(session)
        precondition(deferred.isEmpty, "a flush writes every deferred change")
    }

    /// What must be put back if the savepoint about to begin rolls back. Appended rows are written
    /// first: rows numbered before the savepoint must be in the database when it rolls back and the
    /// numbering is read again.
    func savepointStarted(_ session: any PostingSession) throws -> DeferredBalances {
        try writeAppends(session)
        return deferred
    }

    /// The savepoint rolled back every row it wrote, flushed balances included: the deferred
    /// changes are again those of its start, and what the state remembered of its postings is gone.
    func savepointRolledBack(to start: DeferredBalances) {
        deferred = start
        appends = AppendedRows()
        forgetAll()
        runningBalances.removeAll()
        // PostgreSQL releases the locks a rolled-back savepoint took, and its rows' ids are free again.
        locked.removeAll()
        rowIDs = nil
    }
}

/// Account totals and grant draws posted but not yet written, summed per row.
struct DeferredBalances {
    fileprivate(set) var accounts: [String: (debits: Int64, credits: Int64)] = [:]
    fileprivate(set) var grants: [Int64: Int64] = [:]
    /// Usage per scope and local day (`scope_spend_days`).
    fileprivate(set) var scopeDays = ScopeSpendDays()

    var isEmpty: Bool { accounts.isEmpty && grants.isEmpty && scopeDays.isEmpty }

    fileprivate mutating func writeScopeDays(_ session: any PostingSession) throws {
        try scopeDays.write(session)
    }

    fileprivate mutating func charge(_ spend: BudgetedSpend, to scopes: [SpendScope], day: Int) throws {
        try scopeDays.add(spend.credits, to: scopes, of: spend.organisationID, day: day)
    }

    fileprivate mutating func post(_ amount: Int64, debit: String, credit: String) throws {
        precondition(amount > 0, "a transfer amount must be positive")
        let debitTotals = accounts[debit] ?? (0, 0)
        let creditTotals = accounts[credit] ?? (0, 0)
        let debits = try Checked.add(debitTotals.debits, amount)
        let credits = try Checked.add(creditTotals.credits, amount)
        accounts[debit] = (debits, debitTotals.credits)
        accounts[credit] = (creditTotals.debits, credits)
    }

    fileprivate mutating func draw(_ credits: Int64, fromGrant grantID: Int64) throws {
        precondition(credits > 0, "a draw from a grant takes a positive amount")
        grants[grantID] = try Checked.add(grants[grantID] ?? 0, credits)
    }
}

/// One organisation's spending facts, as of the last posting in this transaction.
struct OrganisationPostingState {
    let organisationID: String
    let currency: Currency
    let overdraftLimit: Credits
    let reservations: [Reservation]
    private(set) var available: Credits
    /// Grants with credits left, in burn-down order (expired ones included: a spend skips grants
    /// expired at its own effective time, which the state cannot know in advance).
    private(set) var grants: [Grant]
    /// The soonest expiry among `grants` (kept by every change that adds or removes one): before it
    /// nothing has lapsed, so `balance(spendableAt:)` need not look at every grant (an organisation
    /// buying often holds hundreds).
    private var earliestExpiry: Instant?

    init(
        organisationID: String, currency: Currency, overdraftLimit: Credits, reservations: [Reservation],
        available: Credits, grants: [Grant]
    ) {
        self.organisationID = organisationID
        self.currency = currency
        self.overdraftLimit = overdraftLimit
        self.reservations = reservations
        self.available = available
        self.grants = grants
        self.earliestExpiry = Self.earliestExpiry(of: grants)
    }

    private static func earliestExpiry(of grants: [Grant]) -> Instant? {
        grants.lazy.compactMap(\.expiresAt).min()
    }

    var balance: Balance {
        Balance(organisationID: organisationID, currency: currency, available: available,
                reservations: reservations, overdraftLimit: overdraftLimit)
    }

    /// The balance a spend effective at `instant` may use: without the credits left on grants that
    /// had expired by then but whose expiry is not posted yet. Those credits are about to leave the
    /// balance, and burn-down skips them, so counting them would let a spend run into overdraft (or
    /// past its limit) as soon as the expiry is posted.
    func balance(spendableAt instant: Instant) throws -> Balance {
        var lapsed = Credits.zero
        if let earliestExpiry, earliestExpiry <= instant {
            for grant in grants where !grant.isSpendable(at: instant) { lapsed = try lapsed.adding(grant.remaining) }
        }
        return Balance(organisationID: organisationID, currency: currency, available: try available.subtracting(lapsed),
                       reservations: reservations, overdraftLimit: overdraftLimit)
    }

    /// Records a spend of `amount` that made `draws` (those with a grant index drew from that grant).
    mutating func spent(_ amount: Credits, draws: [BurnDown.Draw]) throws {
        available = try available.subtracting(amount)
        var emptied = false
        for draw in draws {
            guard let index = draw.grantIndex else { continue }
            grants[index] = try grants[index].drawn(draw.credits)
            emptied = emptied || !grants[index].remaining.isPositive
        }
        if emptied {
            grants.removeAll { !$0.remaining.isPositive }
            earliestExpiry = Self.earliestExpiry(of: grants)
        }
    }

    /// Records a new grant (`grant.remaining` is what is left of it after settling overdraft).
    mutating func granted(_ grant: Grant) throws -> Bool {
        available = try available.adding(grant.credits)
        guard grant.remaining.isPositive else { return true }
        grants.insert(grant, at: grants.firstIndex { grant.burnsBefore($0) } ?? grants.endIndex)
        if let expiresAt = grant.expiresAt { earliestExpiry = min(earliestExpiry ?? expiresAt, expiresAt) }
        return true
    }

    /// Records `credits` taken out of the balance from one grant (an expiry or a reversal); false
    /// when this state does not hold that grant, so it must be read again.
    mutating func drew(_ credits: Credits, fromGrant grantID: Int64) throws -> Bool {
        guard let index = grants.firstIndex(where: { $0.id == grantID }) else { return false }
        available = try available.subtracting(credits)
        grants[index] = try grants[index].drawn(credits)
        grants.removeAll { !$0.remaining.isPositive }
        earliestExpiry = Self.earliestExpiry(of: grants)
        return true
    }

    static func read(_ organisationID: String, from session: any PostingSession) throws -> OrganisationPostingState {
        guard let row = try session.record(
            """
            SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted
            FROM organisations o JOIN accounts a ON a.id = ? AND a.organisation_id = o.id
            WHERE o.id = ?
            """, [.text(AccountID.available(organisationID: organisationID).rawValue), .text(organisationID)])
        else { throw PostingRejection.organisationNotFound(organisationID) }
        guard let currency = Currency(code: row.text(0)) else {
            preconditionFailure("organisation \(organisationID) has a currency the schema should have refused")
        }
        return OrganisationPostingState(
            organisationID: organisationID, currency: currency, overdraftLimit: Credits(microcredits: row.int64(1)),
            reservations: try ConfigurationQueries.reservations(of: organisationID, on: session),
            available: Credits(microcredits: row.int64(2)),
            grants: try LedgerReader.grantsWithCreditsLeft(of: organisationID, on: session))
    }
}

extension Grant {
    /// Whether a spend effective at `instant` may draw from this grant: it has not expired by then.
    func isSpendable(at instant: Instant) -> Bool {
        expiresAt.map { $0 > instant } ?? true
    }

    /// This grant after `credits` more were drawn from it.
    func drawn(_ credits: Credits) throws -> Grant {
        Grant(
            id: id, organisationID: organisationID, source: source, transferID: transferID, credits: self.credits,
            remaining: try remaining.subtracting(credits), burnRank: burnRank, expiresAt: expiresAt,
            grantedAt: grantedAt, cost: cost)
    }
}

/// The next ids of the ledger's numbered rows, which its digest covers: transfers, grants and draws.
/// Read once per transaction under `PostingSession.lockRowNumbering`, so no other transaction adds
/// such rows until this one ends, then counted up as rows are added.
struct LedgerRowIDs {
    enum Table: Int {
        case transfers, grants, grantDraws
    }

    private var next: [Int64]

    static func read(in session: any PostingSession) throws -> LedgerRowIDs {
        try session.lockRowNumbering()
        guard let row = try session.record("""
            SELECT (SELECT COALESCE(MAX(id), 0) FROM transfers), (SELECT COALESCE(MAX(id), 0) FROM grants),
                (SELECT COALESCE(MAX(id), 0) FROM grant_draws)
            """)
        else { preconditionFailure("a row of subqueries answers one row") }
        return LedgerRowIDs(next: [row.int64(0) + 1, row.int64(1) + 1, row.int64(2) + 1])
    }

    func next(_ table: Table) -> Int64 {
        next[table.rawValue]
    }

    mutating func advance(_ table: Table) {
        next[table.rawValue] += 1
    }
}
