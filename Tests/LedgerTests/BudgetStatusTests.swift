import Foundation
import Testing
import TestSupport

@testable import Ledger

/// How a budget stands at an instant (issue 18: reports and GraphQL show budget, used, left and % of
/// the period elapsed). Goal: the figures are the budget rule's own (the period holding the instant in
/// the organisation's time zone, the scope's charged use in it, open holds when asked), for each kind
/// of period, and a fixed range outside the instant still shows its span. Expected values are worked
/// out by hand from the spends below, not from `BudgetPeriod`.
@Suite struct BudgetStatusTests {
    let directory = TemporaryDirectory("budget-status")
    let clock = TestClock("2026-10-01T09:00:00Z")

    static let budgets = [
        Budget(scope: .team, scopeID: "analysis", limit: credits("100"), period: .month, mode: .hard),
        Budget(scope: .investigation, scopeID: "op-urgent", limit: credits("80"), period: .financialYear(startMonth: 4),
               mode: .soft, alertPercents: [50]),
        Budget(scope: .investigation, scopeID: "op-routine", limit: credits("50"),
               period: .range(start: LocalDate.parse("2026-12-01")!, end: LocalDate.parse("2026-12-31")!), mode: .hard),
    ]

    func ledger() throws -> (LedgerDatabase, Organisation) {
        var organisation = SampleWorld.organisation("a")
        organisation.budgets = Self.budgets
        let database = try SampleWorld.ledger(in: directory, organisations: [organisation], clock: clock)
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "grant", organisationID: "a", source: .topUp, credits: credits("1000"),
                effectiveAt: instant("2026-10-01T00:00:00Z")))
            let spends: [(String, String, String)] = [
                ("2026-10-15T10:00:00Z", "7", "op-urgent"),     // the financial year, not November
                ("2026-11-02T10:00:00Z", "30", "op-urgent"),
                ("2026-11-24T10:00:00Z", "20", "op-routine"),   // before the December range
                ("2026-12-10T10:00:00Z", "5", "op-routine"),    // in the range; after the 24 November instant
            ]
            for (index, spend) in spends.enumerated() {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "spend-\(index)", organisationID: "a", credits: credits(spend.1),
                    effectiveAt: instant(spend.0), priority: .p1, policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(team: "analysis", investigation: spend.2, operation: "ocr")))
            }
        }
        return (database, try database.read { try $0.organisation("a")! })
    }

    @Test func eachKindOfPeriod_showsItsDaysUseLeftAndElapsedShare() throws {
        let (database, organisation) = try ledger()
        let at = instant("2026-11-24T12:00:00Z")
        let statuses = try database.read { try $0.budgetStatuses(of: organisation, at: at, holds: false) }
        #expect(statuses.map(\.budget.key) == ["investigation:op-routine", "investigation:op-urgent", "team:analysis"])
        let routine = statuses[0], urgent = statuses[1], team = statuses[2]

        // November in London (GMT): 23.5 of 30 days gone. The 5 credits on 10 December are not yet used.
        #expect(team.firstDay == LocalDate.parse("2026-11-01") && team.lastDay == LocalDate.parse("2026-11-30"))
        #expect(team.used == credits("50") && team.held == .zero && team.left == credits("50"))
        #expect(team.resetsAt == instant("2026-12-01T00:00:00Z") && team.isCurrent)
        #expect(team.percentOfPeriodElapsed == ExactDecimal(significand: 7_833, scale: 2))

        // The financial year from 1 April (BST: 2026-03-31T23:00Z) to 1 April 2027: 65.0799...% gone.
        #expect(urgent.firstDay == LocalDate.parse("2026-04-01") && urgent.lastDay == LocalDate.parse("2027-03-31"))
        #expect(urgent.used == credits("37") && urgent.left == credits("43"))
        #expect(urgent.resetsAt == instant("2027-03-31T23:00:00Z"))
        #expect(urgent.percentOfPeriodElapsed == ExactDecimal(significand: 6_507, scale: 2))

        // A range not begun: its span, nothing used, 0%.
        #expect(routine.firstDay == LocalDate.parse("2026-12-01") && routine.lastDay == LocalDate.parse("2026-12-31"))
        #expect(!routine.isCurrent && routine.used == .zero && routine.left == credits("50"))
        #expect(routine.percentOfPeriodElapsed == ExactDecimal(significand: 0, scale: 2))
        #expect(routine.resetsAt == instant("2027-01-01T00:00:00Z"))
    }

    @Test func aRangeAlreadyOver_showsAllItsUse_andAHundredPercent() throws {
        let (database, organisation) = try ledger()
        let statuses = try database.read {
            try $0.budgetStatuses(of: organisation, at: instant("2027-01-05T00:00:00Z"), holds: false)
        }
        let routine = try #require(statuses.first { $0.budget.scopeID == "op-routine" })
        #expect(!routine.isCurrent && routine.used == credits("5") && routine.left == credits("45"))
        #expect(routine.percentOfPeriodElapsed == ExactDecimal(significand: 10_000, scale: 2))
        let team = try #require(statuses.first { $0.budget.scopeID == "analysis" })
        #expect(team.firstDay == LocalDate.parse("2027-01-01") && team.used == .zero, "January starts from nothing")
    }

    @Test func openHolds_countAsHeld_onlyWhenAsked_andLeftCanGoNegative() throws {
        let (database, organisation) = try ledger()
        clock.set("2026-11-24T11:00:00Z")
        _ = try database.write {
            try $0.createHold(HoldRequest(
                idempotencyKey: "job", organisationID: "a", team: "analysis", investigation: "op-urgent",
                operation: "ocr", credits: credits("50"), expiresInSeconds: 3_600))
        }
        let at = instant("2026-11-24T11:30:00Z")
        let live = try database.read { try $0.budgetStatuses(of: organisation, at: at, holds: true) }
        let team = try #require(live.first { $0.budget.scopeID == "analysis" })
        let urgent = try #require(live.first { $0.budget.scopeID == "op-urgent" })
        #expect(team.held == credits("50") && team.left == .zero, "the hard team budget: 50 used, 50 held")
        #expect(urgent.held == credits("50") && urgent.left == credits("-7"), "the soft one is passed")
        let report = try database.read { try $0.budgetStatuses(of: organisation, at: at, holds: false) }
        #expect(report.allSatisfy { $0.held == .zero })
        let expired = try database.read {
            try $0.budgetStatuses(of: organisation, at: instant("2026-11-24T12:00:00Z"), holds: true)
        }
        #expect(expired.allSatisfy { $0.held == .zero }, "a hold expired at 12:00 holds nothing from then")
    }
}
