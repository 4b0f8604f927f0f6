import Graphiti
import Ledger

/// An organisation's balance as the API shows it: `Credits` scalars (exact decimal strings), `DateTime`.
public struct CreditBalanceView: Sendable {
    public let organisationId: Identifier
    public let available: CreditAmount
    public let reserved: CreditAmount
    /// Credits open holds promise (docs/LEDGER.md, holds).
    public let held: CreditAmount
    public let spendable: CreditAmount
    public let currency: String
    public let asOf: DateTime
    /// Computes `runwayDays` when a query selects it, and only then: it sums the window's deductions,
    /// while the rest of the balance is point lookups.
    let runway: RunwayEstimate

    /// Whole days the spendable balance lasts at the trailing burn rate (the shared `Runway` rule, as
    /// the runway alert judges it); nil when nothing was spent in the window.
    public func runwayDays(context: GraphQLRequestContext, arguments: NoArguments) async throws -> Int? {
        try await runway.days()
    }
}

/// The inputs of `runwayDays`, read from the same instant as the balance it belongs to.
struct RunwayEstimate: Sendable {
    let ledger: any LiveLedger
    let organisationID: String
    let spendable: Credits
    let asOf: Instant

    func days() async throws -> Int? {
        // A sum over the window's deductions: the async read, off the event loop.
        try await ledger.read { [self] reader in
            try reader.runway(of: organisationID, spendable: spendable, asOf: asOf).wholeDays
        }
    }
}
