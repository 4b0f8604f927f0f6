import Foundation
import TestSupport
@testable import Ledger
@testable import Reconcile

/// A small world for reconcile tests: organisations on monthly and financial-year plans, one
/// package, and helpers to stage events and order observations the way ingest and the webhook do.
struct ReconcileWorld {
    let directory = TemporaryDirectory("reconcile")
    let clock = TestClock("2026-11-20T06:00:00Z")
    let ledger: LedgerDatabase

    static let pack = CreditPackage(
        id: "pack_10k", name: "10,000 credits", credits: Credits(10_000),
        prices: [Money(minorUnits: 45_000, currency: .gbp), Money(minorUnits: 56_000, currency: .usd)],
        expiresAfterDays: 365)
    static let monthly = Plan(
        id: "monthly", name: "Monthly", period: .month, creditsPerPeriod: Credits(50_000), financialYearStartMonth: 1,
        rollover: false, prices: [Money(minorUnits: 180_000, currency: .gbp), Money(minorUnits: 230_000, currency: .usd)])
    static let annual = Plan(
        id: "annual", name: "Annual from April", period: .financialYear, creditsPerPeriod: Credits(600_000),
        financialYearStartMonth: 4, rollover: false, prices: [Money(minorUnits: 1_950_000, currency: .gbp)])

    init(organisations: [Organisation]? = nil, packages: [CreditPackage] = [Self.pack]) throws {
        var met = SampleWorld.organisation(
            "met", reservations: [Reservation(id: "p1", credits: Credits(5_000), maxPriority: .p1)], overdraft: Credits(1_000))
        met.planID = nil
        var configuration = SampleWorld.configuration(organisations ?? [met])
        configuration.plans = [Self.monthly, Self.annual]
        configuration.packages = packages
        ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: clock.provider)
        _ = try ledger.write { try $0.load(configuration) }
    }

    func order(
        _ id: String, state: String, amount: Int64 = 45_000, currency: Currency = .gbp, type: String = "payment",
        organisation: String? = "met", package: String? = "pack_10k", related: String? = nil,
        updated: String = "2026-11-10T12:00:00Z", source: String = "api", line: Int = 1
    ) -> OrderObservation {
        OrderObservation(
            orderType: RevolutOrderType(normalising: type), orderID: id, state: RevolutOrderState(normalising: state),
            amount: Money(minorUnits: amount, currency: currency),
            merchantReference: "cpk_\(id)", organisationID: organisation, packageID: package, relatedOrderID: related,
            createdAt: instant("2026-11-10T11:58:00Z"), updatedAt: instant(updated), source: source,
            sourceFile: "\(source).json", sourceLine: line)
    }

    func observe(_ observations: OrderObservation...) throws {
        _ = try ledger.write { try $0.observe(observations) }
    }

    func event(
        _ id: String, credits amount: String, investigation: String? = "op-routine", at: String = "2026-11-12T09:00:00Z",
        organisation: String = "met"
    ) -> StagedCostEvent {
        StagedCostEvent(
            eventID: id, contentSHA256: .sha256(of: Array("a".utf8)), organisationID: organisation, team: "analysis",
            investigation: investigation, operation: "llm.completion", credits: credits(amount), occurredAt: instant(at),
            sourceFile: "events.jsonl", sourceLine: 1)
    }

    func stage(_ events: StagedCostEvent...) throws {
        _ = try ledger.write { try $0.stage(events) }
    }

    func reconcile(asOf: String = "2026-11-20T00:00:00Z") throws -> Reconciler.Summary {
        try Reconciler.reconcile(ledger, options: .init(asOf: instant(asOf)))
    }

    func apply() throws -> PlanApplier.Summary { try PlanApplier.apply(ledger) }

    func balance(_ organisation: String = "met") throws -> Credits {
        try ledger.read { try $0.balance(of: organisation).available }
    }

    func verify() throws -> VerificationReport { try ledger.read { try $0.verify() } }
}
