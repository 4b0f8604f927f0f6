import Foundation

/// The one thing the ledger's verification SQL says differently on SQLite and PostgreSQL: where the
/// triggers are listed. Everything else is portable SQL (`SQLSession`): `IS DISTINCT FROM`, text ordered
/// `COLLATE BINARY`, which PostgreSQL runs as `PostgresDialect.translate` turns it.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A subquery of the names of the triggers in force. On PostgreSQL a disabled trigger is not in force.
    var triggerNames: String {
        switch self {
        case .sqlite: "(SELECT name FROM sqlite_master WHERE type = 'trigger')"
        case .postgres: "(SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D')"
        }
    }
}

/// What `ledger verify` checks and what its digest covers, for either store.
enum LedgerChecks {
    enum Check {
        /// Independent SQL over the raw tables: each row it returns is one offence, described.
        case sql(name: String, query: String)
        /// `grantCostsExact`, computed in Swift from `grantCostRows` (the half-even rule of `GrantCost`).
        case grantCosts
    }

    /// The digest's input, in order: accounts, transfers, grants, draws, usage charges. The wall-clock
    /// `recorded_at` and the derived `actor`, `balance_after` are left out.
    static let digestQueries = [
        "SELECT id, organisation_id, kind, debits_posted, credits_posted FROM accounts ORDER BY id COLLATE BINARY",
        """
        SELECT id, idempotency_key, content_hash, kind, debit_account, credit_account, amount, organisation_id,
               money_minor, currency, effective_at, cost_event_id, revolut_order_id, plan_period, team,
               investigation, operation, memo
        FROM transfers ORDER BY id
        """,
        """
        SELECT id, organisation_id, source, transfer_id, credits, remaining, priority, expires_at, granted_at,
               cost_minor, currency
        FROM grants ORDER BY id
        """,
        "SELECT id, transfer_id, organisation_id, grant_id, credits, cost_minor FROM grant_draws ORDER BY id",
        // Empty on a ledger that never charged a usage run, so such a ledger's digest is what it was.
        "SELECT event_id, transfer_id, credits, cost_minor FROM usage_charges ORDER BY event_id COLLATE BINARY",
    ]

    /// Each grant with its credits, remaining, price and the cost of its draws.
    static let grantCostRows = """
        SELECT g.id, g.credits, g.remaining, g.cost_minor, CAST(COALESCE(SUM(d.cost_minor), 0) AS BIGINT) AS drawn_cost
        FROM grants g LEFT JOIN grant_draws d ON d.grant_id = g.id
        GROUP BY g.id ORDER BY g.id
        """

    /// The cumulative rule of `GrantCost`: the draws of a grant cost exactly round_half_even(price × drawn /
    /// credits) in total. Fed the rows of `grantCostRows` one by one; keeps the first five offences.
    struct GrantCostCheck {
        private(set) var violations: [String] = []
        var isFull: Bool { violations.count >= 5 }

        mutating func add(id: Int64, credits: Int64, remaining: Int64, cost: Int64, drawnCost: Int64) {
            let expected = Checked.multiplyDivide(cost, credits - remaining, credits, .halfEven)
            if expected != drawnCost, !isFull {
                violations.append("grant \(id) draws cost \(drawnCost), expected \(expected ?? -1)")
            }
        }
    }

    // swiftlint:disable:next function_body_length
    static func checks(_ dialect: SQLDialect) -> [Check] {
        let triggers = dialect.triggerNames
        return [
            .sql(name: "doubleEntry", query: """
                SELECT 'transfer ' || id || ' moves ' || amount || ' from ' || debit_account || ' to ' || credit_account
                FROM transfers WHERE amount <= 0 OR debit_account = credit_account
                """),
            .sql(name: "balancesSumToZero", query: """
                SELECT 'sum of balances is ' || SUM(credits_posted - debits_posted) FROM accounts
                HAVING SUM(credits_posted - debits_posted) <> 0
                """),
            .sql(name: "balancesDerivable", query: """
                SELECT 'account ' || a.id || ' stores ' || a.debits_posted || '/' || a.credits_posted
                    || ' but its transfers sum to ' || COALESCE(d.total, 0) || '/' || COALESCE(c.total, 0)
                FROM accounts a
                LEFT JOIN (SELECT debit_account AS id, SUM(amount) AS total FROM transfers GROUP BY debit_account) d
                    ON d.id = a.id
                LEFT JOIN (SELECT credit_account AS id, SUM(amount) AS total FROM transfers GROUP BY credit_account) c
                    ON c.id = a.id
                WHERE a.debits_posted <> COALESCE(d.total, 0) OR a.credits_posted <> COALESCE(c.total, 0)
                """),
            .sql(name: "grantsMatchTheirTransfers", query: """
                SELECT 'grant ' || g.id || ' holds ' || g.credits || ' but transfer ' || t.id || ' moved ' || t.amount
                FROM grants g JOIN transfers t ON t.id = g.transfer_id
                WHERE g.credits <> t.amount OR g.organisation_id <> t.organisation_id
                    OR t.kind NOT IN ('allocation', 'top_up', 'adjustment') OR t.money_minor <> g.cost_minor
                """),
            .sql(name: "grantRemainingDerivable", query: """
                SELECT 'grant ' || g.id || ' has ' || g.remaining || ' remaining but draws leave '
                    || (g.credits - COALESCE(d.total, 0))
                FROM grants g
                LEFT JOIN (SELECT grant_id, SUM(credits) AS total FROM grant_draws WHERE grant_id IS NOT NULL
                           GROUP BY grant_id) d ON d.grant_id = g.id
                WHERE g.remaining <> g.credits - COALESCE(d.total, 0)
                """),
            .sql(name: "drawsSumToTransfers", query: """
                SELECT 'transfer ' || t.id || ' (' || t.kind || ') of ' || t.amount || ' has draws of ' || COALESCE(d.total, 0)
                FROM transfers t
                LEFT JOIN (SELECT transfer_id, SUM(credits) AS total FROM grant_draws GROUP BY transfer_id) d
                    ON d.transfer_id = t.id
                LEFT JOIN grants g ON g.transfer_id = t.id
                WHERE (g.id IS NULL AND COALESCE(d.total, 0) <> t.amount)
                   OR (g.id IS NOT NULL AND d.total IS NOT NULL)
                """),
            .sql(name: "availableEqualsGrantsLessOverdraft", query: """
                SELECT 'organisation ' || a.organisation_id || ' has ' || (a.credits_posted - a.debits_posted)
                    || ' available but grants hold ' || COALESCE(g.total, 0) || ' less ' || COALESCE(u.total, 0) || ' uncovered'
                FROM accounts a
                LEFT JOIN (SELECT organisation_id, SUM(remaining) AS total FROM grants GROUP BY organisation_id) g
                    ON g.organisation_id = a.organisation_id
                LEFT JOIN (SELECT organisation_id, SUM(credits) AS total FROM grant_draws WHERE grant_id IS NULL
                           GROUP BY organisation_id) u ON u.organisation_id = a.organisation_id
                WHERE a.kind = 'available'
                  AND a.credits_posted - a.debits_posted <> COALESCE(g.total, 0) - COALESCE(u.total, 0)
                """),
            .sql(name: "overdraftWithinLimit", query: """
                SELECT 'organisation ' || o.id || ' is at ' || (a.credits_posted - a.debits_posted)
                    || ', beyond its overdraft limit of ' || o.overdraft_limit
                FROM organisations o JOIN accounts a ON a.organisation_id = o.id
                WHERE a.credits_posted - a.debits_posted < -o.overdraft_limit
                """),
            .grantCosts,
            // An outflow records the cost of the draws it made when posted. Draws that settle its
            // overdraft later come from grants created after it (a higher transfer id) and are left
            // out; uncovered draws cost nothing, so a cost on one shows here too. Reports take an
            // outflow's money from all its draws, so a tampered draw or money would misstate them.
            .sql(name: "outflowMoneyEqualsDrawCost", query: """
                SELECT 'transfer ' || t.id || ' (' || t.kind || ') records money ' || t.money_minor
                    || ' but its draws cost ' || COALESCE(p.cost, 0) || ' when posted'
                FROM transfers t
                LEFT JOIN grants own ON own.transfer_id = t.id
                LEFT JOIN (
                    SELECT d.transfer_id, SUM(d.cost_minor) AS cost
                    FROM grant_draws d LEFT JOIN grants g ON g.id = d.grant_id
                    WHERE d.grant_id IS NULL OR g.transfer_id < d.transfer_id
                    GROUP BY d.transfer_id) p ON p.transfer_id = t.id
                WHERE own.id IS NULL AND t.money_minor <> COALESCE(p.cost, 0)
                """),
            .sql(name: "transfersAppendOnly", query: """
                SELECT 'trigger ' || name || ' is missing' FROM (
                    SELECT 'transfers_are_append_only_update' AS name UNION ALL SELECT 'transfers_are_append_only_delete'
                    UNION ALL SELECT 'grant_draws_are_append_only_update' UNION ALL SELECT 'grant_draws_are_append_only_delete'
                    UNION ALL SELECT 'configuration_changes_are_append_only_update'
                    UNION ALL SELECT 'configuration_changes_are_append_only_delete'
                    UNION ALL SELECT 'cost_event_voids_are_append_only_update'
                    UNION ALL SELECT 'cost_event_voids_are_append_only_delete'
                    UNION ALL SELECT 'grant_expiry_moves_are_append_only_update'
                    UNION ALL SELECT 'grant_expiry_moves_are_append_only_delete'
                    UNION ALL SELECT 'usage_charges_are_append_only_update'
                    UNION ALL SELECT 'usage_charges_are_append_only_delete') AS required
                WHERE name NOT IN \(triggers)
                """),
            // Each transfer's balance_after is its organisation's running sum in posting (id) order.
            .sql(name: "balancesAfterDerivable", query: """
                SELECT 'transfer ' || id || ' records balance after ' || COALESCE(CAST(balance_after AS TEXT), 'none')
                    || ' but its organisation''s transfers up to it sum to ' || running
                FROM (
                    SELECT id, balance_after,
                        SUM(CASE WHEN credit_account = 'org:' || organisation_id THEN amount ELSE -amount END)
                            OVER (PARTITION BY organisation_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
                    FROM transfers) AS r
                WHERE balance_after IS DISTINCT FROM running
                UNION ALL
                SELECT 'trigger transfers_record_balance_after is missing'
                WHERE 'transfers_record_balance_after' NOT IN \(triggers)
                """),
            // A grant whose expiry was moved expires when its last move says.
            .sql(name: "grantExpiryMatchesItsMoves", query: """
                SELECT 'grant ' || g.id || ' expires at ' || COALESCE(CAST(g.expires_at AS TEXT), 'never')
                    || ' but its last move (' || m.id || ') set ' || COALESCE(CAST(m.to_expires_at AS TEXT), 'never')
                FROM grants g JOIN grant_expiry_moves m ON m.grant_id = g.id
                WHERE m.id = (SELECT MAX(id) FROM grant_expiry_moves WHERE grant_id = g.id)
                  AND g.expires_at IS DISTINCT FROM m.to_expires_at
                """),
            .sql(name: "transfersNameTheirActor", query: """
                SELECT 'trigger transfers_name_their_actor is missing'
                WHERE 'transfers_name_their_actor' NOT IN \(triggers)
                """),
            .sql(name: "voidedEventsNeverCharged", query: """
                SELECT 'voided cost event ' || v.event_id || ' was charged by transfer ' || t.id
                FROM cost_event_voids v JOIN transfers t ON t.kind = 'deduction' AND t.cost_event_id = v.event_id
                UNION ALL
                SELECT 'voided cost event ' || v.event_id || ' was charged by usage run ' || c.transfer_id
                FROM cost_event_voids v JOIN usage_charges c ON c.event_id = v.event_id
                """),
            // A usage run (`UsageRun`) is a deduction of no event of its own whose charges, one per event it
            // charged, sum to its credits and its money; each charge is its event's credits, in its organisation.
            .sql(name: "usageRunsSumToTheirCharges", query: """
                SELECT 'usage run ' || t.id || ' moves ' || t.amount || ' credits for ' || t.money_minor
                    || ' but its charges sum to ' || r.credits || ' credits for ' || r.cost
                FROM transfers t JOIN (
                    SELECT transfer_id, SUM(credits) AS credits, SUM(cost_minor) AS cost FROM usage_charges
                    GROUP BY transfer_id) r ON r.transfer_id = t.id
                WHERE t.kind <> 'deduction' OR t.cost_event_id IS NOT NULL OR t.amount <> r.credits
                    OR t.money_minor <> r.cost
                UNION ALL
                SELECT 'usage charge of event ' || c.event_id || ' takes ' || c.credits || ' credits from '
                    || t.organisation_id || ' for ' || c.team || '/' || COALESCE(c.investigation, '-') || '/' || c.operation
                    || ' but the event is ' || e.credits || ' credits of ' || e.organisation_id || ' for ' || e.team || '/'
                    || COALESCE(e.investigation, '-') || '/' || e.operation
                FROM usage_charges c JOIN cost_events e ON e.event_id = c.event_id JOIN transfers t ON t.id = c.transfer_id
                WHERE c.credits <> e.credits OR e.organisation_id <> t.organisation_id OR c.occurred_at <> e.occurred_at
                    OR c.team <> e.team OR c.investigation IS DISTINCT FROM e.investigation OR c.operation <> e.operation
                """),
            // Exactly once: an event is charged by its own deduction or by one usage run, never both (the
            // key of `usage_charges` rules out two runs, its triggers the mix).
            .sql(name: "costEventsChargedOnce", query: """
                SELECT 'cost event ' || c.event_id || ' is charged by usage run ' || c.transfer_id
                    || ' and by deduction ' || t.id
                FROM usage_charges c JOIN transfers t ON t.kind = 'deduction' AND t.cost_event_id = c.event_id
                UNION ALL
                SELECT 'trigger ' || name || ' is missing' FROM (
                    SELECT 'usage_charges_once_per_event' AS name UNION ALL SELECT 'deductions_once_per_event') AS required
                WHERE name NOT IN \(triggers)
                """),
            // A settled hold names the one deduction that settled it, of its organisation and its settled
            // credits; its states are kept by triggers (docs/LEDGER.md, holds).
            .sql(name: "holdsSettledByTheirDeduction", query: """
                SELECT 'hold ' || h.id || ' settled ' || h.settled_credits || ' but transfer '
                    || COALESCE(t.id || ' (' || t.kind || ') moved ' || t.amount, h.settlement_transfer_id || ' does not exist')
                FROM holds h LEFT JOIN transfers t ON t.id = h.settlement_transfer_id
                WHERE h.state = 'settled' AND (t.id IS NULL OR t.kind <> 'deduction' OR t.amount <> h.settled_credits
                    OR t.organisation_id <> h.organisation_id)
                UNION ALL
                SELECT 'trigger ' || name || ' is missing' FROM (
                    SELECT 'holds_close_once' AS name UNION ALL SELECT 'holds_are_never_deleted') AS required
                WHERE name NOT IN \(triggers)
                """),
            // I15: per issuer, the invoices are numbered exactly 1...counter (UNIQUE rules out repeats).
            .sql(name: "invoicesGapFree", query: """
                SELECT 'issuer ' || c.issuer_id || ': counter ' || c.last_sequence || ', ' || COUNT(i.id)
                    || ' invoices numbered ' || COALESCE(MIN(i.sequence), 0) || '..' || COALESCE(MAX(i.sequence), 0)
                FROM invoice_counters c LEFT JOIN invoices i ON i.issuer_id = c.issuer_id
                GROUP BY c.issuer_id, c.last_sequence
                HAVING COUNT(i.id) <> c.last_sequence OR COALESCE(MAX(i.sequence), 0) <> c.last_sequence
                    OR COALESCE(MIN(i.sequence), 1) <> 1
                """),
        ]
    }

    /// The row counts `ledger verify` reports.
    static let countQueries = (
        transfers: "SELECT COUNT(*) FROM transfers",
        accounts: "SELECT COUNT(*) FROM accounts",
        grants: "SELECT COUNT(*) FROM grants")
}
