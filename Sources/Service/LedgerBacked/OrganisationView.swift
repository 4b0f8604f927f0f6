import Foundation
import Ledger

/// An organisation's settings as the API shows them.
public struct OrganisationView: Sendable {
    public let id: Identifier
    public let name: String
    public let locale: String
    public let currency: String
    public let timeZone: String
    public let planId: Identifier?
    public let overdraftLimit: CreditAmount
    public let lowBalanceCredits: CreditAmount?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?
    public let reservations: [ReservationView]
    /// Its budgets as they stand now, open holds counted (`BudgetView`).
    public let budgets: [BudgetView]
    /// Reads the audit trail when a query selects `configurationChanges`, and only then.
    let changes: ConfigurationChangesSource

    /// The organisation's live configuration changes, newest first, as a connection (`first` 1 to
    /// `LedgerResolver.maxPageSize`, default 20): who (the API key id, or `config:<digest>` for
    /// `credits init`), when, what, and the old and new values. The next page: `after` the page's
    /// `endCursor`. Visible to whoever may see the organisation, like the rest of it.
    public func configurationChanges(context: GraphQLRequestContext, arguments: ConfigurationChangesArguments)
        async throws -> ConfigurationChangeConnection
    {
        let first = try LedgerResolver.pageSize(arguments.first)
        let beforeID = try arguments.after.map { try PageCursor.configurationChange.decode($0) }
        let page = try await changes.read(first: first + 1, beforeID: beforeID)
        let edges = page.prefix(first).map { change in
            ConfigurationChangeEdge(cursor: PageCursor.configurationChange.encode(change.rowID), node: change)
        }
        return ConfigurationChangeConnection(
            edges: edges,
            pageInfo: PageInfo(
                cursors: edges.map(\.cursor), hasNextPage: page.count > first, isAfterCursor: beforeID != nil))
    }
}

/// The inputs of `configurationChanges`: the organisation whose view it belongs to, already authorised.
struct ConfigurationChangesSource: Sendable {
    let ledger: any LiveLedger
    let organisationID: String

    func read(first: Int, beforeID: Int64?) async throws -> [ConfigurationChangeView] {
        // A page of a table that grows with use: the async read, off the event loop.
        try await ledger.read { [self] reader in
            try reader.configurationChanges(of: organisationID, beforeID: beforeID, limit: first)
                .map(ConfigurationChangeView.init)
        }
    }
}
