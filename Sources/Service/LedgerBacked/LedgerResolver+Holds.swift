import Graphiti
import Ledger

/// One open hold as GraphQL shows it (docs/SERVICE.md, holds).
public struct HoldView: Codable, Sendable {
    public let id: Identifier
    public let team: String
    public let investigation: String?
    public let operation: String
    /// The estimate the hold promises.
    public let credits: CreditAmount
    public let createdAt: DateTime
    public let expiresAt: DateTime
    public let actor: String

    init(_ hold: Hold) {
        id = Identifier(String(hold.id))
        team = hold.team
        investigation = hold.investigation
        operation = hold.operation
        credits = CreditAmount(hold.credits)
        createdAt = DateTime(hold.createdAt)
        expiresAt = DateTime(hold.expiresAt)
        actor = hold.actor
    }
}

extension LedgerResolver {
    public struct OpenHoldsArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let team: String?
        public let investigation: String?
    }

    /// The organisation's holds open now (by the service clock; expired ones hold nothing and are left out),
    /// oldest first, optionally of one team or investigation.
    public func openHolds(context: GraphQLRequestContext, arguments: OpenHoldsArguments) async throws -> [HoldView] {
        let organisationID = try authorised(context, arguments.organisationId)
        let now = now()
        return try await ledger.read { reader in
            guard try reader.organisationExists(organisationID) else { throw Self.notFound }
            return try reader.openHolds(
                of: organisationID, at: now, team: arguments.team, investigation: arguments.investigation
            ).map(HoldView.init)
        }
    }
}
