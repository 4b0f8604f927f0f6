import Testing
import TestSupport
@testable import Ledger

/// One organisation `met` funded by a single top-up, and spends against it: the shared setup of the
/// posting suites (idempotency, deferred balances).
protocol FundedLedger {
    var directory: TemporaryDirectory { get }
}

extension FundedLedger {
    /// A ledger where `met` (overdraft limit `overdraft`) holds one top-up of `amount` credits.
    func funded(_ amount: String = "100", overdraft: Credits = .zero) throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("met", overdraft: overdraft)])
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .topUp, credits: credits(amount),
                price: Money(minorUnits: 1000, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        return ledger
    }

    /// A P3 spend by `met` on 2026-11-02, charged to cost event `costEvent` (default: the key).
    func spend(
        _ key: String, _ amount: String, costEvent: String? = nil, policy: SpendPolicy = .withinSpendable
    ) -> SpendRequest {
        SpendRequest(
            idempotencyKey: key, organisationID: "met", credits: credits(amount),
            effectiveAt: instant("2026-11-02T10:00:00Z"), priority: .p3, policy: policy,
            references: TransferReferences(costEventID: costEvent ?? key))
    }

    /// `verify` passes and `met` has `available` credits.
    func expectVerified(_ ledger: LedgerDatabase, available: String) throws {
        let report = try ledger.read { try $0.verify() }
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
        #expect(try ledger.read { try $0.balance(of: "met").available } == credits(available))
    }
}
