import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Reconcile

/// Budget alerts (issue 18). Goal: each configured percentage of a budget fires once per crossing,
/// stays quiet while the crossing holds, and a `credits.alert.resolved` delivery is queued when it
/// clears (here: the month rolls over by the calendar, with the controlled clock).
@Suite struct BudgetAlertTests {
    @Test func budgetAlerts_fireOncePerCrossing_andResolveWhenThePeriodRolls() throws {
        let webhook = AlertWebhook(url: "http://127.0.0.1:9/alerts", secretEnv: "ALERT_SECRET")
        let world = try AlertTestWorld(thresholds: Thresholds(), webhooks: [webhook], start: "2026-11-10T09:00:00Z")
        _ = try world.ledger.write { tx in
            try tx.setBudget(
                organisationID: "a", scope: SpendScope(.team, id: "analysis"),
                budget: Budget(scope: .team, scopeID: "analysis", limit: credits("100"), period: .month, mode: .soft),
                by: ConfigurationChangeAttribution(actor: "operator:test", idempotencyKey: nil))
        }
        try world.topUp("1000")
        try world.spend("79")
        #expect(try world.run().fired.filter { $0.rule == .budget }.isEmpty)
        try world.spend("1")
        let eighty = try world.run()
        #expect(eighty.fired.map(\.subject) == ["team:analysis@80%"])
        try world.spend("5")
        #expect(try world.run().fired.isEmpty, "the crossing holds: nothing fires again")
        try world.spend("20")
        #expect(try world.run().fired.map(\.subject) == ["team:analysis@100%"])
        world.clock.set("2026-12-01T09:00:00Z")
        let rolled = try world.run()
        #expect(rolled.resolved.map(\.subject).sorted() == ["team:analysis@100%", "team:analysis@80%"])
        #expect(rolled.resolved.allSatisfy { $0.event == "credits.alert.resolved" })
        #expect(try world.outbox().filter { $0.dedupeKey.hasPrefix("resolved-") }.count == 2)
        #expect(try world.run().resolved.isEmpty, "resolved once")
    }
}
