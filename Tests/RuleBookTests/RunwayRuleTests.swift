import Foundation
import Ledger
import Logging
import Reconcile
import Service
import Testing
import TestSupport

/// Goal: the runway alert (batch) and the API's `runwayDays` (live) give the same days left for the
/// same ledger, because both ask the one `Runway` rule. Before it, the alert used a 14-day burn window
/// and the API a 30-day one.
@Suite struct RunwayRuleTests {
    @Test("the runway alert and GraphQL runwayDays agree over randomised usage")
    func runwayAgreesOnBothPaths() async throws {
        var random = SeededRandom(label: "runway rule")
        let seed = random.seed
        let asOf = instant("2026-11-24T12:00:00Z")
        for round in 0..<8 {
            var configured = SampleWorld.organisation("met-\(round)")
            configured.thresholds = Thresholds(lowBalanceCredits: nil, lowBalancePercent: nil, runwayDays: 30)
            let organisation = configured
            let roundDirectory = TemporaryDirectory()
            let ledger = try SampleWorld.ledger(in: roundDirectory, organisations: [organisation])
            let granted = Credits(Int64(Int.random(in: 1_000...50_000, using: &random)))
            // Usage over 40 days, so some falls outside the window.
            let spends = (0..<Int.random(in: 1...30, using: &random)).map { index in
                SpendRequest(
                    idempotencyKey: "u\(index)", organisationID: organisation.id,
                    credits: Credits(Int64(Int.random(in: 1...400, using: &random))),
                    effectiveAt: asOf.adding(milliseconds: -Int64(Int.random(in: 1...(40 * 24 * 60), using: &random)) * 60_000),
                    priority: .p3, policy: .allowOverdraft(limit: Credits(1_000_000)),
                    references: TransferReferences(costEventID: "u\(index)", team: "analysis", operation: "ocr"))
            }
            try await ledger.write { tx in
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "grant", organisationID: organisation.id, source: .adjustment, credits: granted,
                    price: nil, effectiveAt: instant("2026-10-01T00:00:00Z"), references: TransferReferences()))
                for spend in spends { _ = try tx.spend(spend) }
            }
            let batch = try await ledger.read { reader in
                try AlertEvaluator(reader: reader, asOf: asOf).observations(for: organisation)
                    .first { $0.rule == .runway }
            }
            let endpoint = try LedgerSchema.endpoint(
                ledger: ledger, now: { asOf }, limits: GraphQLLimits(), metrics: MetricsRegistry())
            let body = #"{"query":"{ creditBalance(organisationId: \"\#(organisation.id)\") { runwayDays } }"}"#
            let reply = await endpoint.respond(
                to: .post(body: Array(body.utf8)), mediaType: .json, principal: .platformAdmin, keyID: "test", requestID: "r",
                logger: Logger(label: "rule-book"))
            let json = try #require(JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
            let live = ((json["data"] as? [String: Any])?["creditBalance"] as? [String: Any])?["runwayDays"]

            let observation = try #require(batch)
            if observation.value == "none" {
                #expect(live is NSNull, "seed \(seed) round \(round): alert says no burn, API says \(live ?? "?")")
            } else {
                // The alert shows tenths of a day rounded down; the API whole days rounded down.
                let alertDays = try #require(Int(observation.value.split(separator: ".")[0]))
                #expect(live as? Int == alertDays, "seed \(seed) round \(round): alert \(observation.value), API \(live ?? "?")")
            }
        }
    }

    @Test("runway arithmetic: exact integers, rounded down, capped, none without burn")
    func runwayArithmetic() {
        let runway = Runway(spendable: Credits(35), burn: Credits(3))
        // 35 x 14 / 3 = 163.33 days.
        #expect(runway.wholeDays == 163)
        #expect(runway.tenthsOfDays == 1633)
        #expect(runway.isShorter(thanDays: 164))
        #expect(!runway.isShorter(thanDays: 163))
        #expect(Runway(spendable: Credits(-5), burn: Credits(3)).wholeDays == 0)
        #expect(Runway(spendable: Credits(35), burn: .zero).wholeDays == nil)
        #expect(!Runway(spendable: Credits(35), burn: .zero).isShorter(thanDays: 10_000))
        let huge = Runway(spendable: Credits(microcredits: .max), burn: Credits(microcredits: 1))
        #expect(huge.wholeDays == Int(Runway.projectionDaysMax))
    }
}
