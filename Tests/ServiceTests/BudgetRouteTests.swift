import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Budgets at the live gate (issue 18), over real HTTP on loopback and a real SQLite file. Goal: a
/// hard budget refuses `POST /v1/usage` with a 402 naming `budget_exceeded`, the blocking scope, the
/// limit, the use and the reset; and the nightly batch, posting the very same staged event the way
/// apply posts it (`BatchPostingBook`, `.allowOverdraft`), is refused by the same rule with the same
/// figures. A soft budget never refuses.
@Suite struct BudgetRouteTests {
    let directory = TemporaryDirectory("service-budgets")

    func withBudgetService(
        _ store: StoreKind, _ budgets: [Budget], _ body: (ServiceHTTPTests.Harness, any LiveLedger) async throws -> Void
    ) async throws {
        var met = SampleWorld.organisation("met")
        met.budgets = budgets
        try await withLiveLedger(store, in: directory, configuration: SampleWorld.configuration([met])) { ledger in
            try await grantTopUp(credits("1000"), to: "met", in: ledger)
            try await ServiceHTTPTests.withService(spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger)) { service in
                try await body(service, ledger)
            }
        }
    }

    static let teamBudget = Budget(scope: .team, scopeID: "analysis", limit: credits("30"), period: .month, mode: .hard)

    @Test(arguments: StoreKind.available) func usage_whenATeamBudgetWouldBePassed_is402BudgetExceeded_andBatchRefusesTheSameEvent(_ store: StoreKind) async throws {
        try await withBudgetService(store, [
            Budget(scope: .organisation, scopeID: "met", limit: credits("500"), period: .month, mode: .hard),
            Self.teamBudget,
            Budget(scope: .investigation, scopeID: "op-routine", limit: credits("25"), period: .month, mode: .soft),
        ]) { service, ledger in
            let first = try await UsageRouteTests.post(service, UsageRouteTests.event("e1", credits: "20"))
            #expect(first.status == 201, "\(first.text)")
            let refused = try await UsageRouteTests.post(
                service, UsageRouteTests.event("e2", credits: "15", investigation: "op-routine"))
            try ServiceHTTPTests.expectProblem(refused, status: 402)
            let json = try refused.json()
            #expect(json["type"] as? String == "tag:credits,2026:problems/budget-exceeded")
            #expect(json["rule"] as? String == "budget_exceeded")
            #expect(json["scope"] as? String == "team")
            #expect(json["scope_id"] as? String == "analysis")
            #expect(json["requested_credits"] as? String == "15")
            #expect(json["spendable_credits"] as? String == "10")
            #expect(json["budget_limit_credits"] as? String == "30")
            #expect(json["budget_used_credits"] as? String == "20")
            #expect(json["budget_resets_at"] as? String == "2026-12-01T00:00:00.000Z")

            // The same event in the nightly batch: staged by ingest, posted as apply posts it.
            let line = UsageRouteTests.event("e2", credits: "15", investigation: "op-routine")
            let file = directory.file("events.jsonl")
            try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let summary = try await withStagingStore(of: ledger) { try EventIngester(store: $0).ingest(path: file) }
            #expect(summary.staged == 1, "\(summary)")
            let batch: SpendRefusal? = try await ledger.write(as: .tests) { tx in
                let book = try BatchPostingBook(tx)
                do {
                    _ = try book.postSpend(SpendRequest(
                        idempotencyKey: IdempotencyKey.deduction(costEventID: "e2"), organisationID: "met",
                        purpose: .deduction, credits: credits("15"), effectiveAt: instant("2026-11-20T10:00:00Z"),
                        priority: .p3, policy: .allowOverdraft(limit: .zero),
                        references: TransferReferences(costEventID: "e2", team: "analysis", investigation: "op-routine",
                                                       operation: "ocr")))
                    try book.finish()
                    return nil
                } catch PostingRejection.budgetExceeded(let refusal) {
                    return refusal
                }
            }
            let refusal = try #require(batch, "the batch must refuse the event the gate refused")
            #expect(refusal.rule.rawValue == json["rule"] as? String)
            #expect(refusal.scope.kind.rawValue == json["scope"] as? String)
            #expect(refusal.scope.id == json["scope_id"] as? String)
            #expect(refusal.spendable.description == json["spendable_credits"] as? String)
            #expect(refusal.budget?.used.description == json["budget_used_credits"] as? String)
        }
    }

    @Test(arguments: StoreKind.available) func usage_pastASoftBudget_isCharged(_ store: StoreKind) async throws {
        try await withBudgetService(store, [
            Budget(scope: .team, scopeID: "analysis", limit: credits("10"), period: .month, mode: .soft),
        ]) { service, _ in
            let answer = try await UsageRouteTests.post(service, UsageRouteTests.event("s1", credits: "25"))
            #expect(answer.status == 201, "\(answer.text)")
        }
    }

    @Test(arguments: StoreKind.available) func hold_countsAgainstTheBudgetOnItsPath(_ store: StoreKind) async throws {
        try await withBudgetService(store, [Self.teamBudget]) { service, ledger in
            _ = try await ledger.write(as: .operator(name: "test")) { tx in
                try tx.createHold(HoldRequest(
                    idempotencyKey: "job", organisationID: "met", team: "analysis", operation: "ocr",
                    credits: credits("25")))
            }
            let refused = try await UsageRouteTests.post(service, UsageRouteTests.event("h1", credits: "6"))
            try ServiceHTTPTests.expectProblem(refused, status: 402)
            #expect(try refused.json()["rule"] as? String == "budget_exceeded")
            #expect(try refused.json()["budget_used_credits"] as? String == "25")
            #expect(try await UsageRouteTests.post(service, UsageRouteTests.event("h2", credits: "5")).status == 201)
        }
    }
}
