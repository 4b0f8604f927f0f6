import Foundation
import Ledger
import Service
import Testing
import TestSupport

/// Goal: the live gate's 402 and the ledger's own refusal name the same rule for the same spend. Before
/// the one `Balance.refusal` rule, the gate said `zero_balance` ("no credits left") where the posting said
/// `reserve_floor`, and a 402 claimed no credits were left while reporting 51,912.1 spendable for a
/// 60,000-credit request.
@Suite struct SpendBlockRuleTests {
    @Test("gate and posting refuse the same spends with the same rule and spendable, over random balances")
    func gateAndPostingAgree() async throws {
        var random = SeededRandom(label: "spend block rule")
        let seed = random.seed
        for round in 0..<12 {
            let reserve = Int64.random(in: 0...200, using: &random)
            let organisation = SampleWorld.organisation(
                "org-\(round)",
                reservations: reserve == 0 ? [] : [Reservation(id: "floor", credits: Credits(reserve), maxPriority: .p1)])
            let directory = TemporaryDirectory("spend-block")
            let ledger = try SampleWorld.ledger(in: directory, organisations: [organisation])
            let funded = Credits(Int64.random(in: 0...400, using: &random))
            if funded.isPositive {
                _ = try await ledger.write { tx in
                    try tx.grant(GrantRequest(
                        idempotencyKey: "fund", organisationID: organisation.id, source: .allocation, credits: funded,
                        effectiveAt: instant("2026-11-01T00:00:00Z")))
                }
            }
            let gate = LedgerCreditGate(ledger: ledger)
            for attempt in 0..<6 {
                let requested = Credits(Int64.random(in: 1...450, using: &random))
                let investigation = ["op-urgent", "op-routine", nil][Int.random(in: 0...2, using: &random)]
                let priority: Priority = switch investigation {
                case "op-urgent": .p1
                case "op-routine": .p3
                default: .unprioritised
                }
                let live = try await gate.decide(SpendIntent(
                    organisationID: organisation.id, investigationID: investigation, credits: requested))
                let batch: GateDecision
                do {
                    _ = try await ledger.write { tx -> Posting in
                        let posting = try tx.spend(SpendRequest(
                            idempotencyKey: "try-\(attempt)", organisationID: organisation.id, credits: requested,
                            effectiveAt: instant("2026-11-10T00:00:00Z"), priority: priority, policy: .withinSpendable))
                        throw Undo.rollBack(posting)
                    }
                    batch = .allow
                } catch Undo.rollBack {
                    batch = .allow
                } catch PostingRejection.exceedsSpendable(let requested, let spendable, let rule) {
                    batch = .refuse(
                        SpendRefusal(rule: rule, scope: .organisation(organisation.id), requested: requested,
                                     spendable: spendable),
                        priority: nil)
                }
                let context = "seed \(seed) round \(round): \(requested) of \(funded) funded, \(reserve) reserved, \(priority)"
                switch (live, batch) {
                case (.allow, .allow): break
                case (.refuse(let live, _), .refuse(let posted, _)):
                    #expect(live == posted, "\(context)")
                default:
                    Issue.record("\(context): gate \(live), posting \(batch)")
                }
            }
        }
    }

    @Test("a request beyond a positive spendable balance is insufficient_balance, never 'no credits left'")
    func insufficientIsNotEmpty() {
        let balance = Balance(
            organisationID: "met", currency: .gbp, available: credits("51912.1"), reservations: [],
            overdraftLimit: .zero)
        let refusal = balance.refusal(spending: credits("60000"), priority: .p3)
        #expect(refusal == SpendRefusal(
            rule: .insufficientBalance, scope: .organisation("met"), requested: credits("60000"),
            spendable: credits("51912.1")))
        let problem = ProblemDetails.paymentRequired(refusal!, requested: credits("60000"), priority: 3, purchaseHint: "buy")
        #expect(problem.detail == "Organisation met: 60000 credits requested; 51912.1 spendable for P3 work.")
    }

    @Test("the gate's spendable leaves out grants lapsed by the event's time, as the posting does")
    func gateLeavesOutLapsedGrantsAsThePostingDoes() async throws {
        let directory = TemporaryDirectory("spend-block-lapsed")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try await ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "lapsing", organisationID: "met", source: .allocation, credits: credits("30000"),
                effectiveAt: instant("2026-11-01T00:00:00Z"), expiresAt: instant("2026-11-05T00:00:00Z")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "lasting", organisationID: "met", source: .topUp, credits: credits("51912"),
                effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        let eventAt = instant("2026-11-10T00:00:00Z")
        let gate = LedgerCreditGate(ledger: ledger)
        for requested in [credits("60000"), credits("90000")] {
            let live = try await gate.decide(SpendIntent(organisationID: "met", credits: requested, effectiveAt: eventAt))
            let expected = SpendRefusal(
                rule: .insufficientBalance, scope: .organisation("met"), requested: requested, spendable: credits("51912"))
            #expect(live == .refuse(expected, priority: nil), "the 30,000 on the lapsed grant are not spendable")
            await #expect(throws: PostingRejection.exceedsSpendable(
                requested: requested, spendable: credits("51912"), blockedBy: .insufficientBalance)) {
                _ = try await ledger.write { tx in
                    try tx.spend(SpendRequest(
                        idempotencyKey: "try", organisationID: "met", credits: requested, effectiveAt: eventAt,
                        priority: .unprioritised, policy: .withinSpendable))
                }
            }
        }
    }

    /// Rolls a trial posting back after it succeeded.
    enum Undo: Error { case rollBack(Posting) }
}
