import Foundation
import Hummingbird
import Ledger
import Synchronization
import Testing

@testable import Service

/// The gate in front of spending routes, with a stand-in gate until the ledger-backed one lands.
@Suite struct CreditGateTests {
    /// Refuses `org_broke` (nothing left) and `org_reserved` for work below P1 (only reserve left).
    final class ScriptedGate: CreditGate {
        private let asked = Mutex<[SpendIntent]>([])
        var intents: [SpendIntent] { asked.withLock { $0 } }

        func decide(_ intent: SpendIntent) async throws -> GateDecision {
            asked.withLock { $0.append(intent) }
            switch (intent.organisationID, intent.investigationID) {
            case ("org_broke", _):
                return .refuse(SpendRefusal(rule: .insufficientBalance, scope: .organisation("org_broke"), requested: Credits(microcredits: 1), spendable: .zero), priority: nil)
            case ("org_reserved", "inv_p1"): return .allow
            case ("org_reserved", _):
                return .refuse(SpendRefusal(rule: .reserveFloor, scope: .organisation("org_reserved"), requested: Credits(microcredits: 1), spendable: .zero), priority: 3)
            default: return .allow
            }
        }
    }

    final class Counter: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func increment() { count.withLock { $0 += 1 } }
    }

    struct UsageBody: Decodable {
        let organisation_id: String
        let investigation: String?
    }

    static func spendingRoutes(gate: ScriptedGate, handled: Counter) -> SpendingRoutes {
        SpendingRoutes(gate: gate) { request, context in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard let usage = try? JSONDecoder().decode(UsageBody.self, from: Data(body.readableBytesView)) else {
                throw ProblemDetails(status: .badRequest, type: "/problems/usage-body", title: "Bad Request")
            }
            return SpendIntent(organisationID: usage.organisation_id, investigationID: usage.investigation)
        } register: { group in
            group.post("usage") { _, _ -> Response in
                handled.increment()
                return Response(status: .accepted)
            }
        }
    }

    static func withGatedService(_ body: (ServiceHTTPTests.Harness, ScriptedGate, () -> Int) async throws -> Void)
        async throws
    {
        let gate = ScriptedGate()
        let handled = Counter()
        let routes = spendingRoutes(gate: gate, handled: handled)
        try await ServiceHTTPTests.withService(spendingRoutes: routes) { service in
            try await body(service, gate) { handled.value }
        }
    }

    static func postUsage(
        _ service: ServiceHTTPTests.Harness, _ json: String, key: String? = ServiceHTTPTests.orgKey.key
    ) async throws -> HTTPAnswer {
        var headers = ["Content-Type": "application/json"]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        return try await send("POST", service.url("v1/usage"), headers: headers, body: Data(json.utf8))
    }

    @Test func testAllowedSpendReachesTheHandler() async throws {
        try await Self.withGatedService { service, gate, handled in
            let answer = try await Self.postUsage(service, #"{"organisation_id":"org_acme","investigation":"inv_7"}"#)
            #expect(answer.status == 202)
            #expect(handled() == 1)
            #expect(gate.intents == [SpendIntent(organisationID: "org_acme", investigationID: "inv_7")])
        }
    }

    @Test func testZeroBalanceIs402WithAProblemBody() async throws {
        try await Self.withGatedService { service, _, handled in
            let answer = try await Self.postUsage(
                service, #"{"organisation_id":"org_broke"}"#, key: ServiceHTTPTests.adminKey.key)
            try ServiceHTTPTests.expectProblem(answer, status: 402)
            let json = try answer.json()
            #expect(json["type"] as? String == "tag:credits,2026:problems/insufficient-balance")
            #expect(json["scope"] as? String == "organisation")
            #expect(json["scope_id"] as? String == "org_broke")
            #expect(json["instance"] as? String == answer.header("X-Request-Id"), "the request id names the occurrence")
            #expect(json["title"] as? String == "Payment Required")
            #expect(json["rule"] as? String == "insufficient_balance")
            #expect(json["spendable_credits"] as? String == "0")
            #expect(json["organisation_id"] as? String == "org_broke")
            #expect((json["purchase"] as? String)?.contains("purchaseCreditPackage") == true)
            #expect((json["detail"] as? String)?.contains("0 spendable for this work") == true, "\(json)")
            #expect(handled() == 0)
            #expect(service.metrics.counterValue(
                ServiceMetrics.gateDecisions, labels: [Label("decision", "refused_insufficient_balance")]) == 1)
        }
    }

    @Test func testReserveFloorRefusesLowPriorityAndAdmitsP1() async throws {
        try await Self.withGatedService { service, _, handled in
            let admin = ServiceHTTPTests.adminKey.key
            let low = try await Self.postUsage(
                service, #"{"organisation_id":"org_reserved","investigation":"inv_p3"}"#, key: admin)
            try ServiceHTTPTests.expectProblem(low, status: 402)
            #expect(try low.json()["rule"] as? String == "reserve_floor")
            #expect(try low.json()["priority"] as? Int == 3)
            let high = try await Self.postUsage(
                service, #"{"organisation_id":"org_reserved","investigation":"inv_p1"}"#, key: admin)
            #expect(high.status == 202)
            #expect(handled() == 1)
        }
    }

    @Test func testAnotherOrganisationsKeyIsForbiddenBeforeTheGate() async throws {
        try await Self.withGatedService { service, gate, handled in
            let answer = try await Self.postUsage(service, #"{"organisation_id":"org_other"}"#)
            try ServiceHTTPTests.expectProblem(answer, status: 403)
            #expect(gate.intents.isEmpty)
            #expect(handled() == 0)
        }
    }

    @Test func testMissingKeyAndBadBody() async throws {
        try await Self.withGatedService { service, gate, handled in
            try ServiceHTTPTests.expectProblem(
                try await Self.postUsage(service, #"{"organisation_id":"org_acme"}"#, key: nil), status: 401)
            try ServiceHTTPTests.expectProblem(try await Self.postUsage(service, "not json"), status: 400)
            #expect(gate.intents.isEmpty)
            #expect(handled() == 0)
        }
    }
}
