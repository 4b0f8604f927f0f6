import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Holds over a real ledger and real HTTP: created, settled exactly once through the posting `POST /v1/usage`
/// uses, released, expired by the ledger's clock (frees its credits at the expiry instant exactly), and
/// concurrent holds that never promise more than was spendable; `ledger verify` passes after each.
@Suite struct HoldRouteTests {
    let directory = TemporaryDirectory("service-holds")
    /// The ledger's clock, which decides holds' expiry.
    let clock = TestClock("2026-11-20T10:00:00Z")

    /// `met`: 150 credits, 100 reserved for P1 (`op-urgent` P1, `op-routine` P3): 50 spendable below P1.
    func withHoldService(
        _ store: StoreKind, reserve: Credits = credits("100"),
        _ body: (ServiceHTTPTests.Harness, any LiveLedger) async throws -> Void
    ) async throws {
        let reservations = reserve.isPositive ? [Reservation(id: "p1-floor", credits: reserve, maxPriority: .p1)] : []
        let configuration = SampleWorld.configuration([
            SampleWorld.organisation("met", reservations: reservations), SampleWorld.organisation("gmp"),
        ])
        try await withLiveLedger(store, in: directory, configuration: configuration, clock: clock.provider) { ledger in
            try await grantTopUp(credits("150"), to: "met", in: ledger)
            try await ServiceHTTPTests.withService(
                graphQL: try LedgerSchema.endpoint(
                    ledger: ledger, now: clock.provider, limits: GraphQLLimits(), metrics: MetricsRegistry()),
                spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger),
                holdRoutes: HoldRoutes.spendingRoutes(ledger: ledger)
            ) { service in
                try await body(service, ledger)
                let report = try await verification(of: ledger)
                #expect(report.passed, "\(report.checks.filter { !$0.passed })")
            }
        }
    }

    static func holdBody(
        _ key: String, credits: String = #""40""#, org: String = "met", investigation: String? = nil,
        expiresIn: Int? = nil
    ) -> String {
        var fields = [#""organisation_id":"\#(org)""#, #""team":"analysis""#, #""operation":"transcription""#,
                      #""credits":\#(credits)"#, #""idempotency_key":"\#(key)""#]
        if let investigation { fields.append(#""investigation":"\#(investigation)""#) }
        if let expiresIn { fields.append(#""expires_in_seconds":\#(expiresIn)"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func request(
        _ service: ServiceHTTPTests.Harness, _ method: String, _ path: String, _ body: String? = nil,
        key: String = ServiceHTTPTests.metKey.key
    ) async throws -> HTTPAnswer {
        try await send(
            method, service.url(path), headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
            body: body.map { Data($0.utf8) })
    }

    static func hold(_ service: ServiceHTTPTests.Harness, _ body: String) async throws -> HTTPAnswer {
        try await request(service, "POST", "v1/holds", body)
    }

    static func settle(_ service: ServiceHTTPTests.Harness, _ id: Int, _ credits: String) async throws -> HTTPAnswer {
        try await request(service, "POST", "v1/holds/\(id)/settle", #"{"credits":\#(credits)}"#)
    }

    func held(_ ledger: any LiveLedger) async throws -> Credits {
        let now = clock.now
        return try await ledger.read { try $0.heldCredits(of: "met", at: now) }
    }

    func available(_ ledger: any LiveLedger) async throws -> Credits {
        try await ledger.read { try $0.balance(of: "met").available }
    }

    @Test(arguments: StoreKind.available) func create_settle_postsOneDeduction_andASecondSettleChangesNothing(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, ledger in
            let created = try await Self.hold(service, Self.holdBody("job-1"))
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(try created.json()["hold_id"] as? Int)
            #expect(try created.json()["status"] as? String == "open")
            #expect(try created.json()["expires_at"] as? String == "2026-11-20T11:00:00.000Z", "one hour by default")
            #expect(try await held(ledger) == credits("40"))

            let retry = try await Self.hold(service, Self.holdBody("job-1"))
            #expect(retry.status == 200)
            #expect(try retry.json()["hold_id"] as? Int == id)
            let reused = try await Self.hold(service, Self.holdBody("job-1", credits: "41"))
            try ServiceHTTPTests.expectProblem(reused, status: 409)

            let settled = try await Self.settle(service, id, #""33.5""#)
            #expect(settled.status == 201, "\(settled.text)")
            #expect(try settled.json()["status"] as? String == "settled")
            let transferID = try #require(try settled.json()["transfer_id"] as? Int)
            #expect(try await available(ledger) == credits("116.5"))
            #expect(try await held(ledger) == .zero)

            let again = try await Self.settle(service, id, #""33.5""#)
            #expect(again.status == 200)
            #expect(try again.json()["transfer_id"] as? Int == transferID)
            let other = try await Self.settle(service, id, #""30""#)
            try ServiceHTTPTests.expectProblem(other, status: 409)
            #expect(try other.json()["rule"] as? String == "holdAlreadySettled")
            #expect(try await available(ledger) == credits("116.5"), "one deduction, whatever was repeated")
            let transfer = try await ledger.read { try $0.transfer(idempotencyKey: IdempotencyKey.holdSettlement(holdID: Int64(id))) }
            #expect(transfer?.id == Int64(transferID))
            #expect(transfer?.kind == .deduction)
            #expect(transfer?.references.team == "analysis")
            #expect(transfer?.references.operation == "transcription")
            let actor = try await ledger.read { try $0.hold(id: Int64(id))?.actor }
            #expect(actor == "key:\(ServiceHTTPTests.metKey.hash.id)")
        }
    }

    @Test(arguments: StoreKind.available) func settle_acceptsUpToTheToleranceAboveTheEstimate(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, _ in
            let id = try #require(try await Self.hold(service, Self.holdBody("job-2", credits: #""40""#)).json()["hold_id"] as? Int)
            let above = try await Self.settle(service, id, #""44.000001""#)
            try ServiceHTTPTests.expectProblem(above, status: 400)
            #expect(try above.json()["rule"] as? String == "settleAboveTolerance")
            let atCeiling = try await Self.settle(service, id, #""44""#)
            #expect(atCeiling.status == 201, "\(atCeiling.text)")
        }
    }

    @Test(arguments: StoreKind.available) func heldCreditsCountAgainstSpendable_forUsageAndForHolds(_ store: StoreKind) async throws {
        try await withHoldService(store, reserve: .zero) { service, ledger in
            #expect(try await Self.hold(service, Self.holdBody("job-3", credits: #""145""#)).status == 201)
            let usage = try await UsageRouteTests.post(service, UsageRouteTests.event("e1", credits: "10"))
            try ServiceHTTPTests.expectProblem(usage, status: 402)
            let refusal = try usage.json()
            #expect(refusal["rule"] as? String == "insufficient_balance")
            #expect(refusal["type"] as? String == "tag:credits,2026:problems/insufficient-balance")
            #expect(refusal["spendable_credits"] as? String == "5", "150 available less 145 held")
            #expect(refusal["requested_credits"] as? String == "10")

            let second = try await Self.hold(service, Self.holdBody("job-4", credits: #""6""#))
            try ServiceHTTPTests.expectProblem(second, status: 402)
            let body = try second.json()
            #expect(body["rule"] as? String == "hold_exceeds_balance")
            #expect(body["type"] as? String == "tag:credits,2026:problems/hold-exceeds-balance")
            #expect(body["scope"] as? String == "organisation")
            #expect(body["scope_id"] as? String == "met")
            #expect(body["spendable_credits"] as? String == "5")
            #expect(body["requested_credits"] as? String == "6")
            #expect(body["instance"] as? String == second.header("X-Request-Id"))
            #expect(try await Self.hold(service, Self.holdBody("job-5", credits: #""5""#)).status == 201)
            #expect(try await held(ledger) == credits("150"))
            #expect(try await UsageRouteTests.post(service, UsageRouteTests.event("e2", credits: "0.000001")).status == 402)
        }
    }

    @Test(arguments: StoreKind.available) func aHoldBlockedByTheReserveNamesReserveFloor_andP1WorkMayHoldTheReserve(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, ledger in
            // 150 available, 100 reserved for P1: 50 spendable below P1.
            #expect(try await Self.hold(service, Self.holdBody("job-13", credits: #""45""#)).status == 201)
            let low = try await Self.hold(service, Self.holdBody("job-14", credits: #""6""#, investigation: "op-routine"))
            try ServiceHTTPTests.expectProblem(low, status: 402)
            #expect(try low.json()["rule"] as? String == "reserve_floor")
            #expect(try low.json()["priority"] as? Int == 3)
            #expect(try low.json()["spendable_credits"] as? String == "5")
            let usage = try await UsageRouteTests.post(service, UsageRouteTests.event("e3", credits: "6"))
            #expect(try usage.json()["rule"] as? String == "reserve_floor")
            // P1 work may hold the reserve, but never what holds already promised.
            let urgent = try await Self.hold(service, Self.holdBody("job-15", credits: #""106""#, investigation: "op-urgent"))
            try ServiceHTTPTests.expectProblem(urgent, status: 402)
            #expect(try urgent.json()["rule"] as? String == "hold_exceeds_balance")
            #expect(try urgent.json()["spendable_credits"] as? String == "105")
            #expect(try await Self.hold(service, Self.holdBody("job-16", credits: #""105""#, investigation: "op-urgent")).status == 201)
            #expect(try await held(ledger) == credits("150"))
        }
    }

    @Test(arguments: StoreKind.available) func release_freesTheCredits_andASettledHoldCannotBeReleased(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, ledger in
            let id = try #require(try await Self.hold(service, Self.holdBody("job-7", credits: "50")).json()["hold_id"] as? Int)
            #expect(try await held(ledger) == credits("50"))
            let released = try await Self.request(service, "DELETE", "v1/holds/\(id)")
            #expect(released.status == 200, "\(released.text)")
            #expect(try released.json()["status"] as? String == "released")
            #expect(try await held(ledger) == .zero)
            #expect(try await Self.request(service, "DELETE", "v1/holds/\(id)").status == 200, "releasing twice is harmless")
            let settle = try await Self.settle(service, id, "10")
            try ServiceHTTPTests.expectProblem(settle, status: 409)
            #expect(try settle.json()["rule"] as? String == "holdReleased")

            let other = try #require(try await Self.hold(service, Self.holdBody("job-8", credits: "5")).json()["hold_id"] as? Int)
            #expect(try await Self.settle(service, other, "5").status == 201)
            let late = try await Self.request(service, "DELETE", "v1/holds/\(other)")
            try ServiceHTTPTests.expectProblem(late, status: 409)
            #expect(try await available(ledger) == credits("145"))
        }
    }

    @Test(arguments: StoreKind.available) func anotherOrganisationsHoldIsNotFound(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, _ in
            let id = try #require(try await Self.hold(service, Self.holdBody("job-9", credits: "5")).json()["hold_id"] as? Int)
            let foreignSettle = try await Self.request(
                service, "POST", "v1/holds/\(id)/settle", #"{"credits":"5"}"#, key: ServiceHTTPTests.orgKey.key)
            try ServiceHTTPTests.expectProblem(foreignSettle, status: 404)
            let foreignRelease = try await Self.request(service, "DELETE", "v1/holds/\(id)", key: ServiceHTTPTests.orgKey.key)
            try ServiceHTTPTests.expectProblem(foreignRelease, status: 404)
            let foreignCreate = try await Self.request(
                service, "POST", "v1/holds", Self.holdBody("job-10", credits: "5"), key: ServiceHTTPTests.orgKey.key)
            try ServiceHTTPTests.expectProblem(foreignCreate, status: 403)
        }
    }

    @Test(arguments: StoreKind.available) func refusesBadBodies_namingTheField(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, _ in
            let cases: [(String, String)] = [
                (Self.holdBody("k", credits: "0"), "estimateMustBePositive"),
                (Self.holdBody("k", expiresIn: Int(Hold.expirySecondsMax) + 1), "expiryOutOfRange"),
                (Self.holdBody("k", expiresIn: 0), "expiryOutOfRange"),
                (Self.holdBody("k", investigation: "op-nowhere"), "unknownInvestigation"),
            ]
            for (body, rule) in cases {
                let answer = try await Self.hold(service, body)
                try ServiceHTTPTests.expectProblem(answer, status: 400)
                #expect(try answer.json()["rule"] as? String == rule, "\(body): \(answer.text)")
            }
            let fraction = try await Self.hold(service, Self.holdBody("k", credits: "1.5"))
            try ServiceHTTPTests.expectProblem(fraction, status: 400)
            #expect(try (fraction.json()["detail"] as? String)?.hasPrefix("credits:") == true, "\(fraction.text)")
            let missing = try await Self.hold(service, #"{"organisation_id":"met"}"#)
            try ServiceHTTPTests.expectProblem(missing, status: 400)
        }
    }

    @Test(arguments: StoreKind.available) func anExpiredHoldFreesItsCreditsAtTheExpiryInstantExactly(_ store: StoreKind) async throws {
        try await withHoldService(store) { service, ledger in
            let created = try await Self.hold(service, Self.holdBody("job-11", credits: "50", expiresIn: 600))
            #expect(created.status == 201)
            #expect(try created.json()["expires_at"] as? String == "2026-11-20T10:10:00.000Z")
            clock.set("2026-11-20T10:09:59.999Z")
            #expect(try await held(ledger) == credits("50"))
            try ServiceHTTPTests.expectProblem(try await Self.hold(service, Self.holdBody("job-12", credits: "1")), status: 402)
            clock.set("2026-11-20T10:10:00Z")
            #expect(try await held(ledger) == .zero)
            let after = try await Self.hold(service, Self.holdBody("job-12", credits: "1"))
            #expect(after.status == 201, "the expired hold's credits are free at its expiry instant: \(after.text)")
            let openHolds = try await ledger.read { [clock] in try $0.openHolds(of: "met", at: clock.now) }
            #expect(openHolds.map(\.idempotencyKey) == ["job-12"])
        }
    }

    @Test(arguments: StoreKind.available) func concurrentHoldsNeverPromiseMoreThanWasSpendable(_ store: StoreKind) async throws {
        try await withHoldService(store, reserve: .zero) { service, ledger in
            // 150 spendable; 24 clients ask for 7 each (168): exactly 21 may be promised (147).
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<24 {
                    group.addTask { try await Self.hold(service, Self.holdBody("race-\(client)", credits: "7")).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == 201 }.count == 21, "\(answers)")
            #expect(answers.filter { $0 == 402 }.count == 3, "\(answers)")
            #expect(try await held(ledger) == credits("147"))
            #expect(try await held(ledger) <= (try await available(ledger)))
            let usage = try await UsageRouteTests.post(service, UsageRouteTests.event("e-race", credits: "4"))
            try ServiceHTTPTests.expectProblem(usage, status: 402)
        }
    }

    @Test(arguments: StoreKind.available) func graphQLListsOpenHolds_perTeamAndInvestigation_andNotAnotherOrganisations(_ store: StoreKind) async throws {
        try await withHoldService(store, reserve: .zero) { service, _ in
            #expect(try await Self.hold(service, Self.holdBody("job-20", credits: "10")).status == 201)
            #expect(try await Self.hold(service, Self.holdBody("job-21", credits: "20", investigation: "op-urgent")).status == 201)
            let short = try await Self.hold(service, Self.holdBody("job-22", credits: "5", expiresIn: 60))
            #expect(short.status == 201)
            clock.set("2026-11-20T10:01:00Z")
            func keys(_ arguments: String, key: String = ServiceHTTPTests.metKey.key) async throws -> [String]? {
                let answer = try await service.graphQL(
                    LedgerBackedTests.query("{ openHolds(\(arguments)) { id team investigation operation credits expiresAt actor } }"),
                    key: key)
                let data = try answer.json()["data"] as? [String: Any]
                return (data?["openHolds"] as? [[String: Any]])?.map { "\($0["credits"]!)" }
            }
            #expect(try await keys(#"organisationId: "met""#) == ["10", "20"], "the expired hold holds nothing")
            #expect(try await keys(#"organisationId: "met", investigation: "op-urgent""#) == ["20"])
            #expect(try await keys(#"organisationId: "met", team: "nobody""#) == [])
            #expect(try await keys(#"organisationId: "met""#, key: ServiceHTTPTests.orgKey.key) == nil)
            let balance = try await service.graphQL(
                LedgerBackedTests.query(#"{ creditBalance(organisationId: "met") { available held spendable } }"#),
                key: ServiceHTTPTests.metKey.key)
            let view = try #require((try balance.json()["data"] as? [String: Any])?["creditBalance"] as? [String: Any])
            #expect(view["available"] as? String == "150")
            #expect(view["held"] as? String == "30")
            #expect(view["spendable"] as? String == "120", "spendable leaves what holds promise alone")
            let before = try await service.graphQL(
                LedgerBackedTests.query(
                    #"{ creditBalance(organisationId: "met", asOf: "2026-11-20T10:00:30Z") { held spendable } }"#),
                key: ServiceHTTPTests.metKey.key)
            let then = try #require((try before.json()["data"] as? [String: Any])?["creditBalance"] as? [String: Any])
            #expect(then["held"] as? String == "35", "as it stood: the short hold had not expired yet")
        }
    }
}
