import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Budgets through GraphQL (issue 18), over real HTTP on loopback and a real ledger of either store (a SQLite
/// file, or a PostgreSQL database when the tests have a server; issue 17: the same answers). Goal: a
/// platform admin sets, changes and removes a budget with `setBudget`, checked as organisations.yaml
/// is (unknown scope, child above parent, bad terms are `userErrors` naming the field) and audited;
/// `organisation { budgets }` shows each budget's period, used, held, left and elapsed share as the
/// ledger's rule measures them; and a budget set this way refuses the next spend that would pass it.
@Suite struct BudgetGraphQLTests {
    let directory = TemporaryDirectory("service-budget-graphql")

    struct World {
        let service: ServiceHTTPTests.Harness
        let ledger: any LiveLedger
        let met: String
        let admin: String

        func graphQL(_ text: String, key: String) async throws -> [String: Any] {
            let answer = try await service.graphQL(LedgerBackedTests.query(text), key: key)
            #expect(answer.status == 200, "\(answer.text)")
            return try #require(try JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any])
        }

        /// `setBudget`'s payload: the organisation's budgets, or the user errors.
        func setBudget(_ input: String, key: String? = nil) async throws -> [String: Any] {
            let answer = try await graphQL(
                "mutation { setBudget(input: {organisationId: \"met\", \(input)}) { organisation { budgets { "
                    + "scope scopeId limit mode period periodFrom periodTo used left } } "
                    + "userErrors { code field message } } }", key: key ?? admin)
            let data = try #require(answer["data"] as? [String: Any], "\(answer)")
            return try #require(data["setBudget"] as? [String: Any], "\(answer)")
        }

        func budgets() async throws -> [[String: Any]] {
            let answer = try await graphQL(
                #"{ organisation(organisationId: "met") { budgets { scope scopeId limit mode period "#
                    + "financialYearStartMonth periodFrom periodTo resetsAt current used held left "
                    + "percentOfPeriodElapsed alertPercents } } }", key: met)
            let organisation = (answer["data"] as? [String: Any])?["organisation"] as? [String: Any]
            return try #require(organisation?["budgets"] as? [[String: Any]], "\(answer)")
        }
    }

    /// `met` on a monthly plan whose financial year starts in April, with a top-up of 1000 and 20
    /// credits charged to team analysis (op-urgent) on 20 November; the service's clock reads
    /// 2026-11-24T12:00Z.
    func withWorld(_ store: StoreKind, _ body: (World) async throws -> Void) async throws {
        var plan = SampleWorld.monthlyPlan("team", credits: credits("100"), priceMinorGBP: 1000)
        plan.financialYearStartMonth = 4
        var organisation = SampleWorld.organisation("met")
        organisation.planID = plan.id
        organisation.planStart = LocalDate.parse("2026-01-01")
        let configuration = SampleWorld.configuration([organisation], plans: [plan])
        try await withLiveLedger(store, in: directory, configuration: configuration, clock: TestClock().provider) { ledger in
            _ = try await ledger.write(as: .tests) { tx in
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "grant", organisationID: "met", source: .topUp, credits: credits("1000"),
                    effectiveAt: instant("2026-11-01T00:00:00Z")))
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "used", organisationID: "met", credits: credits("20"),
                    effectiveAt: instant("2026-11-20T10:00:00Z"), priority: .p1, policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(team: "analysis", investigation: "op-urgent", operation: "ocr")))
            }
            let met = try await LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "test")
            let admin = try await LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "admin")
            try await LedgerBackedTests.serve(ledger, name: "budget-graphql") { service in
                try await body(World(service: service, ledger: ledger, met: met, admin: admin))
            }
        }
    }

    @Test(arguments: StoreKind.available) func setBudget_showsTheBudgetAsItStands_andTheNextSpendPastItIsRefused(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            let set = try await world.setBudget(
                #"scope: TEAM, scopeId: "analysis", limit: "30", idempotencyKey: "b1""#)
            #expect((set["userErrors"] as? [Any])?.isEmpty == true, "\(set)")
            let budgets = try await world.budgets()
            #expect(budgets.count == 1)
            let team = try #require(budgets.first)
            #expect(team["scope"] as? String == "TEAM" && team["scopeId"] as? String == "analysis")
            #expect(team["limit"] as? String == "30" && team["mode"] as? String == "HARD")
            #expect(team["period"] as? String == "MONTH" && team["financialYearStartMonth"] is NSNull)
            #expect(team["periodFrom"] as? String == "2026-11-01" && team["periodTo"] as? String == "2026-11-30")
            #expect(team["resetsAt"] as? String == "2026-12-01T00:00:00.000Z" && team["current"] as? Bool == true)
            #expect(team["used"] as? String == "20" && team["held"] as? String == "0" && team["left"] as? String == "10")
            #expect(team["percentOfPeriodElapsed"] as? Double == 78.33)
            #expect(team["alertPercents"] as? [Int] == [80, 100])

            // The same rule the gate and the batch ask: 15 more would pass the team's 30.
            let refused: SpendRefusal? = try await world.ledger.write(as: .tests) { tx in
                do {
                    _ = try tx.spend(SpendRequest(
                        idempotencyKey: "more", organisationID: "met", credits: credits("15"),
                        effectiveAt: instant("2026-11-24T11:00:00Z"), priority: .p1,
                        policy: .allowOverdraft(limit: .zero),
                        references: TransferReferences(team: "analysis", investigation: "op-routine", operation: "ocr")))
                    return nil
                } catch PostingRejection.budgetExceeded(let refusal) {
                    return refusal
                }
            }
            let refusal = try #require(refused, "a budget set through GraphQL must refuse the spend that passes it")
            #expect(refusal.scope == SpendScope(.team, id: "analysis") && refusal.spendable == credits("10"))
        }
    }

    @Test(arguments: StoreKind.available) func setBudget_refusesWhatOrganisationsYamlRefuses_namingTheField(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            _ = try await world.setBudget(#"scope: TEAM, scopeId: "analysis", limit: "30", idempotencyKey: "b1""#)
            let cases: [(input: String, code: String, field: String)] = [
                (#"scope: TEAM, scopeId: "nope", limit: "10", idempotencyKey: "e1""#, "budgetScopeNotFound", "scopeId"),
                (#"scope: INVESTIGATION, scopeId: "op-urgent", limit: "40", idempotencyKey: "e2""#,
                 "budgetExceedsParent", "limit"),
                (#"scope: TEAM, scopeId: "analysis", limit: "30", period: RANGE, periodTo: "2026-12-31", idempotencyKey: "e3""#,
                 "budgetInvalid", "periodFrom"),
                (#"scope: TEAM, scopeId: "analysis", limit: "30", period: RANGE, periodFrom: "2026-12-31", "#
                    + #"periodTo: "2026-12-01", idempotencyKey: "e4""#, "budgetInvalid", "periodTo"),
                (#"scope: TEAM, scopeId: "analysis", limit: "30", period: FINANCIAL_YEAR, financialYearStartMonth: 13, "#
                    + #"idempotencyKey: "e5""#, "budgetInvalid", "financialYearStartMonth"),
                (#"scope: TEAM, scopeId: "analysis", limit: "30", alertPercents: [100, 80], idempotencyKey: "e6""#,
                 "budgetInvalid", "alertPercents"),
                (#"scope: TEAM, scopeId: "analysis", limit: "-1", idempotencyKey: "e7""#, "creditsMustNotBeNegative", "limit"),
                (#"scope: TEAM, scopeId: "analysis", limit: "25", idempotencyKey: "b1""#,
                 "idempotencyKeyReusedWithDifferentContent", "idempotencyKey"),
            ]
            for refused in cases {
                let payload = try await world.setBudget(refused.input)
                #expect(payload["organisation"] is NSNull, "\(refused.input): \(payload)")
                let error = try #require((payload["userErrors"] as? [[String: Any]])?.first, "\(refused.input): \(payload)")
                #expect(error["code"] as? String == refused.code, "\(refused.input): \(error)")
                #expect(error["field"] as? [String] == ["input", refused.field], "\(refused.input): \(error)")
            }
            let budgets = try await world.budgets()
            #expect(budgets.count == 1 && budgets.first?["limit"] as? String == "30", "refusals change nothing")
        }
    }

    /// A financial year given no month of its own starts in the plan's month, as organisations.yaml
    /// has it, not in January.
    @Test(arguments: StoreKind.available) func setBudget_financialYearWithoutAMonth_startsInThePlansMonth(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            let set = try await world.setBudget(
                #"scope: TEAM, scopeId: "analysis", limit: "300", period: FINANCIAL_YEAR, idempotencyKey: "fy""#)
            #expect((set["userErrors"] as? [Any])?.isEmpty == true, "\(set)")
            let budget = try #require(try await world.budgets().first)
            #expect(budget["financialYearStartMonth"] as? Int == 4, "\(budget)")
            #expect(budget["periodFrom"] as? String == "2026-04-01" && budget["periodTo"] as? String == "2027-03-31",
                    "\(budget)")
        }
    }

    @Test(arguments: StoreKind.available) func setBudget_isAdminOnly_audited_andLimitZeroRemovesIt(_ store: StoreKind) async throws {
        try await withWorld(store) { world in
            let forbidden = try await world.graphQL(
                #"mutation { setBudget(input: {organisationId: "met", scope: TEAM, scopeId: "analysis", "#
                    + #"limit: "30", idempotencyKey: "k"}) { userErrors { code } } }"#, key: world.met)
            let errors = try #require(forbidden["errors"] as? [[String: Any]], "\(forbidden)")
            #expect((errors.first?["extensions"] as? [String: Any])?["code"] as? String == "FORBIDDEN")

            _ = try await world.setBudget(
                #"scope: INVESTIGATION, scopeId: "op-urgent", limit: "500", mode: SOFT, period: FINANCIAL_YEAR, "#
                    + #"financialYearStartMonth: 4, alertPercents: [50, 90], idempotencyKey: "b1""#)
            let replayed = try await world.setBudget(
                #"scope: INVESTIGATION, scopeId: "op-urgent", limit: "500", mode: SOFT, period: FINANCIAL_YEAR, "#
                    + #"financialYearStartMonth: 4, alertPercents: [50, 90], idempotencyKey: "b1""#)
            #expect((replayed["userErrors"] as? [Any])?.isEmpty == true, "a retry is answered, not refused")
            let budget = try #require(try await world.budgets().first)
            #expect(budget["mode"] as? String == "SOFT" && budget["period"] as? String == "FINANCIAL_YEAR")
            #expect(budget["financialYearStartMonth"] as? Int == 4 && budget["periodFrom"] as? String == "2026-04-01")
            #expect(budget["alertPercents"] as? [Int] == [50, 90] && budget["used"] as? String == "20")

            let removed = try await world.setBudget(
                #"scope: INVESTIGATION, scopeId: "op-urgent", limit: "0", idempotencyKey: "b2""#)
            #expect((removed["userErrors"] as? [Any])?.isEmpty == true, "\(removed)")
            #expect(try await world.budgets().isEmpty)

            let trail = try await world.graphQL(
                #"{ organisation(organisationId: "met") { configurationChanges(first: 10) { edges { node { "#
                    + "actor subject reservationId oldValue { credits } newValue { credits } } } } } }", key: world.met)
            let organisation = (trail["data"] as? [String: Any])?["organisation"] as? [String: Any]
            let edges = try #require((organisation?["configurationChanges"] as? [String: Any])?["edges"] as? [[String: Any]])
            let nodes = edges.compactMap { $0["node"] as? [String: Any] }
            #expect(nodes.count == 2, "one row per change, none for the retry: \(nodes)")
            let actor = "key:\(APIKey.hash(presented: world.admin)!.id)"
            #expect(nodes.allSatisfy { $0["subject"] as? String == "BUDGET" && $0["actor"] as? String == actor })
            #expect(nodes.allSatisfy { $0["reservationId"] as? String == "investigation:op-urgent" })
            #expect((nodes[0]["oldValue"] as? [String: Any])?["credits"] as? String == "500" && nodes[0]["newValue"] is NSNull)
            #expect(nodes[1]["oldValue"] is NSNull && (nodes[1]["newValue"] as? [String: Any])?["credits"] as? String == "500")
        }
    }
}
