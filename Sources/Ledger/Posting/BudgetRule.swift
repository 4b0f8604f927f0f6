import Foundation

// Budgets in posting: the one rule the live gate (`POST /v1/usage`, holds) and the nightly plan and
// apply all ask (`BudgetBook.check`), and the spend per scope and local day it measures against.
//
// Method: a budget's use in a period is the sum of its scope's `scope_spend_days` rows over the
// period's days plus what this transaction (or simulation) charged and has not written yet, read
// once per scope and period and then kept current by every spend. Open holds on the spend's path
// count as used (the live gate passes them; batch usage already happened and passes none).

/// One scope (the organisation itself, one of its teams or investigations) of one organisation.
struct OrganisationScope: Hashable {
    let organisationID: String
    let scope: SpendScope
}

/// Usage per organisation scope and local day, summed before it is written to `scope_spend_days`.
///
/// Keyed by scope, then day: a budget asks for its one scope's days, so the sum is a lookup however
/// many scopes are pending (a night with 20,000 budgeted investigations made a scan of every
/// pending day per budget the slowest step of reconcile).
struct ScopeSpendDays {
    private var credits: [OrganisationScope: [Int: Int64]] = [:]
    /// Pending (scope, day) sums: what a write would upsert.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Adds `amount` to the day of each of `scopes` (the organisation's scopes a budget measures).
    mutating func add(_ amount: Credits, to scopes: [SpendScope], of organisationID: String, day: Int) throws {
        precondition(amount.isPositive, "usage adds positive credits")
        for scope in scopes {
            let key = OrganisationScope(organisationID: organisationID, scope: scope)
            let before = credits[key]?[day]
            credits[key, default: [:]][day] = try Checked.add(before ?? 0, amount.microcredits)
            if before == nil { count += 1 }
        }
    }

    /// What is summed here for one scope over `days`.
    func sum(organisationID: String, scope: SpendScope, days: Range<Int>) throws -> Int64 {
        guard let byDay = credits[OrganisationScope(organisationID: organisationID, scope: scope)] else { return 0 }
        var total: Int64 = 0
        for (day, value) in byDay where days.contains(day) { total = try Checked.add(total, value) }
        return total
    }

    /// Adds every sum to its row and empties this; one upsert per row, in key order.
    mutating func write(_ sql: some SQLSession) throws {
        try forEachRow { key, day, value in
            try sql.execute(Self.upsert, [.text(key.organisationID), .text(key.scope.kind.rawValue), .text(key.scope.id),
                                          SQLValue(day), .integer(value)])
        }
    }

    private static let upsert = """
        INSERT INTO scope_spend_days (organisation_id, scope, scope_id, day, credits) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (organisation_id, scope, scope_id, day) DO UPDATE SET credits = scope_spend_days.credits + excluded.credits
        """

    /// Hands every pending sum to `body` in key order, each leaving this as it is handed over.
    private mutating func forEachRow(_ body: (OrganisationScope, Int, Int64) throws -> Void) throws {
        let scopes = credits.keys.sorted {
            ($0.organisationID, $0.scope.kind.rawValue, $0.scope.id) < ($1.organisationID, $1.scope.kind.rawValue, $1.scope.id)
        }
        for key in scopes {
            for (day, value) in credits[key, default: [:]].sorted(by: { $0.key < $1.key }) { try body(key, day, value) }
            credits[key] = nil
        }
        count = 0
    }
}

/// Credits open holds promise, by scope, for a spend's budgets (`ScopeHolds.none` in batch).
public struct ScopeHolds: Sendable, Hashable {
    public var organisation: Credits = .zero
    public var teams: [String: Credits] = [:]
    public var investigations: [String: Credits] = [:]

    public static let none = ScopeHolds()

    func on(_ scope: SpendScope) -> Credits {
        switch scope.kind {
        case .organisation: organisation
        case .team: teams[scope.id] ?? .zero
        case .investigation: investigations[scope.id] ?? .zero
        }
    }

    /// The holds of an organisation open at `instant`, all but `excluding`.
    static func read(
        organisationID: String, at instant: Instant, excluding: Int64?, in sql: some SQLSession
    ) throws -> ScopeHolds {
        var holds = ScopeHolds()
        let rows = try sql.records("""
            SELECT team, investigation, CAST(SUM(credits) AS BIGINT) FROM holds
            WHERE organisation_id = ? AND state = 'open' AND expires_at > ? AND id IS DISTINCT FROM ?
            GROUP BY team, investigation
            """, [.text(organisationID), .integer(instant.millisecondsSinceEpoch), SQLValue(excluding)])
        for row in rows {
            let credits = Credits(microcredits: row.int64(2))
            holds.organisation = try holds.organisation.adding(credits)
            let team = row.text(0)
            holds.teams[team] = try (holds.teams[team] ?? .zero).adding(credits)
            if let investigation = row.textOrNil(1) {
                holds.investigations[investigation] = try (holds.investigations[investigation] ?? .zero).adding(credits)
            }
        }
        return holds
    }
}

/// Usage asking to be charged against budgets.
struct BudgetedSpend {
    let organisationID: String
    let team: String?
    let investigation: String?
    let credits: Credits
    let effectiveAt: Instant

    init(organisationID: String, team: String?, investigation: String?, credits: Credits, effectiveAt: Instant) {
        self.organisationID = organisationID
        self.team = team
        self.investigation = investigation
        self.credits = credits
        self.effectiveAt = effectiveAt
    }

    /// Deductions are usage; adjustments are not and no budget limits them.
    init?(_ request: SpendRequest) {
        guard request.purpose == .deduction else { return nil }
        self.init(organisationID: request.organisationID, team: request.references.team,
                  investigation: request.references.investigation, credits: request.credits,
                  effectiveAt: request.effectiveAt)
    }

    /// The scopes on the spend's path, outermost first.
    var path: [SpendScope] {
        SpendScope.path(organisationID: organisationID, team: team, investigation: investigation)
    }
}

extension SpendScope {
    /// The scopes usage of a team and investigation is charged to, outermost first.
    static func path(organisationID: String, team: String?, investigation: String?) -> [SpendScope] {
        [SpendScope(.organisation, id: organisationID)] + [team.map { SpendScope(.team, id: $0) },
         investigation.map { SpendScope(.investigation, id: $0) }].compactMap { $0 }
    }
}

/// What the budget rule said of a spend it allowed: its local day (where it is counted) and the soft
/// budgets it passes (charged, flagged).
struct BudgetCheck {
    let day: Int
    let softExceeded: [SpendRefusal]
}

/// One budget's standing for a spend: what it allows and why.
struct BudgetStandingForSpend {
    let budget: Budget
    let used: Credits
    let held: Credits
    let resetsAt: Instant

    /// What the budget still allows (negative once passed).
    var left: Int64 { budget.limit.microcredits - used.microcredits - held.microcredits }

    func refusal(requested: Credits) -> SpendRefusal {
        SpendRefusal(
            rule: .budgetExceeded, scope: budget.spendScope, requested: requested,
            spendable: Credits(microcredits: max(0, left)),
            budget: BudgetStanding(limit: budget.limit, used: Credits(microcredits: used.microcredits + held.microcredits),
                                   resetsAt: resetsAt))
    }
}

/// The budget rule, kept per transaction (`PostingState`) or per simulation (`PostingSimulation`):
/// the organisations' budgets and time zones, read once, and each scope's use per period, read once
/// and then kept by `recorded`.
final class BudgetBook {
    private struct Organisation {
        let timeZone: TimeZone
        /// By scope: a spend asks for the few scopes on its path, and an organisation may budget every
        /// one of its hundreds of investigations (a scan of them per spend was most of a budgeted night).
        let budgets: [SpendScope: Budget]
        /// The last local day asked for, so the calendar is asked once per day, not per spend.
        var lastDay: (instants: Range<Instant>, day: Int)?
    }

    private var organisations: [String: Organisation] = [:]
    /// Each scope's use per period (its local days), read once; keyed by scope so a spend finds the
    /// few periods on its path, however many scopes have budgets.
    private var used: [OrganisationScope: [Range<Int>: Credits]] = [:]

    func forget(_ organisationID: String) {
        organisations[organisationID] = nil
        used = used.filter { $0.key.organisationID != organisationID }
    }

    func forgetAll() {
        organisations.removeAll()
        used.removeAll()
    }

    /// Whether the organisation has any budget (so the live gate reads open holds by scope only then).
    func hasBudgets(_ organisationID: String, in sql: some SQLSession) throws -> Bool {
        !(try organisation(organisationID, in: sql).budgets.isEmpty)
    }

    /// The scopes on the spend's path that a budget measures: the only ones whose use is kept
    /// (`scope_spend_days`); none for most organisations, which have no budget.
    func measuredScopes(of spend: BudgetedSpend, in sql: some SQLSession) throws -> [SpendScope] {
        let budgets = try organisation(spend.organisationID, in: sql).budgets
        guard !budgets.isEmpty else { return [] }
        return spend.path.filter { budgets[$0] != nil }
    }

    /// The rule: every hard budget on the spend's path whose period holds the spend must still allow
    /// it (used plus held plus requested within the limit); of those that do not, the tightest (least
    /// left; on a tie the innermost scope) refuses with `budgetExceeded`. Soft budgets it passes are
    /// returned, the tightest first. `pending` is what was charged and not yet written.
    func check(
        _ spend: BudgetedSpend, held: ScopeHolds, pending: ScopeSpendDays, in sql: some SQLSession
    ) throws -> BudgetCheck {
        let day = try localDay(of: spend.effectiveAt, organisationID: spend.organisationID, in: sql)
        let standings = try self.standings(spend, held: held, pending: pending, in: sql)
        let passed = standings.filter { $0.left < spend.credits.microcredits }
        // Stable: on equal `left` the later (inner) scope wins, as the path runs outermost first.
        let ordered = passed.enumerated().sorted { ($0.element.left, -$0.offset) < ($1.element.left, -$1.offset) }
            .map(\.element)
        if let hard = ordered.first(where: { $0.budget.mode == .hard }) {
            throw PostingRejection.budgetExceeded(hard.refusal(requested: spend.credits))
        }
        return BudgetCheck(day: day, softExceeded: ordered.map { $0.refusal(requested: spend.credits) })
    }

    /// Each budget on the spend's path whose period holds it, outermost first.
    func standings(
        _ spend: BudgetedSpend, held: ScopeHolds, pending: ScopeSpendDays, in sql: some SQLSession
    ) throws -> [BudgetStandingForSpend] {
        let organisation = try organisation(spend.organisationID, in: sql)
        guard !organisation.budgets.isEmpty else { return [] }
        var standings: [BudgetStandingForSpend] = []
        for scope in spend.path {
            guard let budget = organisation.budgets[scope],
                  let window = budget.window(holding: spend.effectiveAt, in: organisation.timeZone)
            else { continue }
            let used = try self.used(spend.organisationID, scope, days: window.days, pending: pending, in: sql)
            standings.append(BudgetStandingForSpend(
                budget: budget, used: used, held: held.on(scope), resetsAt: window.instants.upperBound))
        }
        return standings
    }

    /// Records a spend charged on `day`: every period use read so far that holds it grows.
    func recorded(_ spend: BudgetedSpend, day: Int) throws {
        guard !used.isEmpty else { return }
        for scope in spend.path {
            let key = OrganisationScope(organisationID: spend.organisationID, scope: scope)
            guard let periods = used[key] else { continue }
            for (days, value) in periods where days.contains(day) { used[key]![days] = try value.adding(spend.credits) }
        }
    }

    /// The local day (days since the epoch) holding `instant` in the organisation's time zone.
    func localDay(of instant: Instant, organisationID: String, in sql: some SQLSession) throws -> Int {
        var organisation = try organisation(organisationID, in: sql)
        if let last = organisation.lastDay, last.instants.contains(instant) { return last.day }
        let date = LocalDate.of(instant, in: organisation.timeZone)
        let instants = date.startInstant(in: organisation.timeZone)..<date.adding(days: 1).startInstant(in: organisation.timeZone)
        organisation.lastDay = (instants, date.daysSinceEpoch)
        organisations[organisationID] = organisation
        return date.daysSinceEpoch
    }

    private func used(
        _ organisationID: String, _ scope: SpendScope, days: Range<Int>, pending: ScopeSpendDays, in sql: some SQLSession
    ) throws -> Credits {
        let key = OrganisationScope(organisationID: organisationID, scope: scope)
        if let known = used[key]?[days] { return known }
        let stored = try BudgetQueries.used(organisationID, scope, days: days, in: sql)
        let total = Credits(microcredits: try Checked.add(
            stored.microcredits, pending.sum(organisationID: organisationID, scope: scope, days: days)))
        used[key, default: [:]][days] = total
        return total
    }

    private func organisation(_ organisationID: String, in sql: some SQLSession) throws -> Organisation {
        if let known = organisations[organisationID] { return known }
        guard let zoneID = try sql.record("SELECT time_zone FROM organisations WHERE id = ?", [.text(organisationID)])?.text(0)
        else { throw PostingRejection.organisationNotFound(organisationID) }
        guard let zone = TimeZone(identifier: zoneID) else {
            preconditionFailure("organisation \(organisationID) has a time zone configuration should have refused")
        }
        // One budget per scope (the schema's key); were there two, the first in key order is the one.
        let budgets = Dictionary(
            try BudgetQueries.budgets(of: organisationID, in: sql).map { ($0.spendScope, $0) },
            uniquingKeysWith: { first, _ in first })
        let organisation = Organisation(timeZone: zone, budgets: budgets, lastDay: nil)
        organisations[organisationID] = organisation
        return organisation
    }
}

/// The SQL of budgets' terms.
enum BudgetQueries {
    static func budgets(of organisationID: String, in sql: some SQLSession) throws -> [Budget] {
        try sql.strings(
            "SELECT terms FROM budgets WHERE organisation_id = ? ORDER BY budget_key COLLATE BINARY", [.text(organisationID)]
        ).map { try ConfigurationCodec.decode(Budget.self, $0) }
    }

    /// Usage charged to one scope on the local `days`, as written to `scope_spend_days`.
    static func used(_ organisationID: String, _ scope: SpendScope, days: Range<Int>, in sql: some SQLSession) throws -> Credits {
        let sum = try sql.integer("""
            SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM scope_spend_days
            WHERE organisation_id = ? AND scope = ? AND scope_id = ? AND day >= ? AND day < ?
            """, [.text(organisationID), .text(scope.kind.rawValue), .text(scope.id), SQLValue(days.lowerBound),
                  SQLValue(days.upperBound)]) ?? 0
        return Credits(microcredits: sum)
    }

    /// Sets the organisation's budgets to `budgets`; a scope none measured before gets its use written
    /// (`ScopeUse.rewrite`).
    static func replace(_ budgets: [Budget], of organisationID: String, in sql: some SQLSession) throws {
        let measured = Set(try self.budgets(of: organisationID, in: sql).map(\.spendScope))
        try sql.execute("DELETE FROM budgets WHERE organisation_id = ?", [.text(organisationID)])
        for budget in budgets { try write(budget, of: organisationID, in: sql) }
        try ScopeUse.rewrite(Set(budgets.map(\.spendScope)).subtracting(measured), of: organisationID, in: sql)
    }

    /// Adds or changes one budget; a scope no budget measured before gets its use written.
    static func upsert(_ budget: Budget, of organisationID: String, in sql: some SQLSession) throws {
        let measured = try budgets(of: organisationID, in: sql).contains { $0.spendScope == budget.spendScope }
        try write(budget, of: organisationID, in: sql)
        if !measured { try ScopeUse.rewrite([budget.spendScope], of: organisationID, in: sql) }
    }

    private static func write(_ budget: Budget, of organisationID: String, in sql: some SQLSession) throws {
        try sql.execute(
            """
            INSERT INTO budgets (organisation_id, budget_key, terms) VALUES (?, ?, ?)
            ON CONFLICT (organisation_id, budget_key) DO UPDATE SET terms = excluded.terms
            """,
            [.text(organisationID), .text(budget.key), .text(try ConfigurationCodec.json(budget))])
    }
}

/// The usage a budget measures, kept only where one does.
///
/// Rule: `scope_spend_days` holds, for every scope a budget measures, the credits of every deduction
/// charged to it per local day of its organisation. Posting adds to those scopes only (most
/// organisations have no budget, and adding three scopes' days per event was a tenth of a night's apply);
/// a scope that starts being measured (a budget added by `init` or the admin mutation) gets its days
/// written from the ledger's deductions first, so its budget starts from the period's true use. Rows of
/// a scope no budget measures any more are not kept current and nothing reads them; measuring it again
/// rewrites them.
enum ScopeUse {
    static func rewrite(_ scopes: Set<SpendScope>, of organisationID: String, in sql: some SQLSession) throws {
        guard !scopes.isEmpty else { return }
        guard let zoneID = try sql.record("SELECT time_zone FROM organisations WHERE id = ?", [.text(organisationID)])?
            .text(0)
        else { throw PostingRejection.organisationNotFound(organisationID) }
        guard let zone = TimeZone(identifier: zoneID) else {
            preconditionFailure("organisation \(organisationID) has a time zone configuration should have refused")
        }
        for scope in scopes.sorted(by: { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }) {
            try sql.execute("DELETE FROM scope_spend_days WHERE organisation_id = ? AND scope = ? AND scope_id = ?",
                            [.text(organisationID), .text(scope.kind.rawValue), .text(scope.id)])
        }
        var days = ScopeSpendDays()
        try sum(organisationID, in: zone, into: &days, on: sql, keeping: scopes.contains)
        try days.write(sql)
    }

    /// Adds every deduction charged to the organisation (its own: the live path's, and usage beyond
    /// every grant; or a usage run's events) to `days`, by its local day, for the scopes `keeping` keeps.
    static func sum(
        _ organisationID: String, in zone: TimeZone, into days: inout ScopeSpendDays, on sql: some SQLSession,
        keeping: (SpendScope) -> Bool
    ) throws {
        try sql.forEachRow(
            """
            SELECT effective_at, team, investigation, amount FROM transfers
            WHERE organisation_id = ?1 AND kind = 'deduction'
                AND NOT EXISTS (SELECT 1 FROM usage_charges c WHERE c.transfer_id = transfers.id)
            UNION ALL
            SELECT c.occurred_at, c.team, c.investigation, c.credits
            FROM usage_charges c JOIN transfers t ON t.id = c.transfer_id WHERE t.organisation_id = ?1
            """, [.text(organisationID)]
        ) { row in
            let path = SpendScope.path(organisationID: organisationID, team: row.textOrNil(1), investigation: row.textOrNil(2))
                .filter(keeping)
            guard !path.isEmpty else { return }
            let day = LocalDate.of(Instant(millisecondsSinceEpoch: row.int64(0)), in: zone).daysSinceEpoch
            try days.add(Credits(microcredits: row.int64(3)), to: path, of: organisationID, day: day)
        }
    }
}

extension LedgerReader {
    /// Credits charged to one scope of an organisation on the local `days` (days since the epoch):
    /// a budget period's use, as the budget rule reads it (without open holds).
    public func budgetUse(of organisationID: String, scope: SpendScope, days: Range<Int>) throws -> Credits {
        try BudgetQueries.used(organisationID, scope, days: days, in: sql)
    }
}
