import Foundation
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal: reconcile plans in a simulation of the ledger (`PostingSimulation`) and apply posts in the
/// ledger itself; the two must agree item for item, or apply refuses every plan as stale. Nights
/// drawn at random with every kind of item (plan allocations and their expiry, top-ups, a short-lived
/// package that expires, refunds after spending, usage into reserves, into overdraft and beyond its
/// limit, settled overdraft, live usage between nights) must each apply exactly as planned.
@Suite struct PlanSimulationTests {
    static let shortPack = CreditPackage(
        id: "pack_short", name: "2,000 credits for three days", credits: Credits(2_000),
        prices: [Money(minorUnits: 9_000, currency: .gbp)], expiresAfterDays: 3)

    static func organisation() -> Organisation {
        var met = SampleWorld.organisation(
            "met", reservations: [Reservation(id: "p1", credits: Credits(5_000), maxPriority: .p1)], overdraft: Credits(1_000))
        met.planID = "monthly"
        met.planStart = LocalDate(year: 2026, month: 10, day: 1)
        return met
    }

    @Test func randomNights_applyExactlyAsSimulated() throws {
        var random = SeededRandom(label: "PlanSimulationTests")
        var kinds: Set<String> = []
        var findings: Set<FindingCode> = []
        let wanted: Set<FindingCode> = [.usageIntoReserve, .usageInOverdraft, .usageBeyondOverdraftLimit, .refundAfterSpend]
        // Four worlds at least, and more (up to twelve) until the nights have met every finding wanted: some
        // seeds never run a world into its overdraft within four.
        for round in 0..<12 where round < 4 || !findings.isSuperset(of: wanted) {
            let world = try ReconcileWorld(organisations: [Self.organisation()], packages: [ReconcileWorld.pack, Self.shortPack])
            var night = Night(world: world)
            // Weekly nights from the start of November into December: an allocation expires at the month's end.
            for week in 0..<6 {
                let start = instant("2026-11-01T00:00:00Z").adding(days: 7 * week)
                try night.fill(from: start, using: &random)
                let plan = try world.reconcile(asOf: start.adding(days: 7).description)
                let applied = try world.apply()
                #expect(applied.transfers == plan.items, "week \(week): apply posted what reconcile simulated")
                #expect(applied.credits == plan.credits, "week \(week)")
                kinds.formUnion(plan.items.keys)
                findings.formUnion(plan.exceptions.map(\.code))
                try night.liveUsage(at: start.adding(days: 7), using: &random)
            }
            let report = try world.verify()
            #expect(report.passed, "\(report.checks.filter { !$0.passed })")
        }
        // The nights reached every kind of item and every way usage meets a balance.
        #expect(kinds == ["allocation", "top_up", "deduction", "reversal", "expiry"])
        #expect(findings.isSuperset(of: wanted), "\(findings)")
    }

    /// One week of input: usage, payments (some for the short-lived package) and refunds of
    /// earlier payments, at random times within the week.
    struct Night {
        let world: ReconcileWorld
        var events = 0
        var orders: [String] = []
        var refunded: Set<String> = []

        mutating func fill(from start: Instant, using random: inout SeededRandom) throws {
            let at = { (random: inout SeededRandom) in
                start.adding(milliseconds: Int64.random(in: 0..<(7 * 86_400_000), using: &random))
            }
            var staged: [StagedCostEvent] = []
            for _ in 0..<Int.random(in: 3...12, using: &random) {
                events += 1
                let credits = Int.random(in: 1...60, using: &random) * 100
                let investigation = ["op-urgent", "op-routine", nil].randomElement(using: &random)!
                staged.append(world.event("e\(events)", credits: "\(credits)", investigation: investigation,
                                          at: at(&random).description))
            }
            _ = try world.ledger.write { try $0.stage(staged) }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let id = "o\(orders.count + 1)"
                let short = Bool.random(using: &random)
                try world.observe(world.order(
                    id, state: "completed", amount: short ? 9_000 : 45_000, package: short ? "pack_short" : "pack_10k",
                    updated: at(&random).description))
                orders.append(id)
            }
            if let original = orders.filter({ !refunded.contains($0) }).randomElement(using: &random), Bool.random(using: &random) {
                refunded.insert(original)
                try world.observe(world.order(
                    "r-\(original)", state: "completed", amount: Int64.random(in: 1...4, using: &random) * 2_000,
                    type: "refund", related: original, updated: at(&random).description))
            }
        }

        /// What the live route does between nights: usage within what the work's priority may spend.
        mutating func liveUsage(at instant: Instant, using random: inout SeededRandom) throws {
            events += 1
            let request = SpendRequest(
                idempotencyKey: IdempotencyKey.deduction(costEventID: "live\(events)"), organisationID: "met",
                credits: Credits(Int64.random(in: 1...30, using: &random) * 100), effectiveAt: instant.adding(milliseconds: -1),
                priority: Bool.random(using: &random) ? .p1 : .p3, policy: .withinSpendable,
                references: TransferReferences(costEventID: "live\(events)"))
            _ = try? world.ledger.write { try $0.spend(request) }
        }
    }
}
