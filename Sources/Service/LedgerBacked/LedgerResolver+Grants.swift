import Ledger

/// A grant as GraphQL shows it: what funds an organisation's balance, and what is left of it.
public struct GrantView: Codable, Sendable {
    public let id: Identifier
    public let source: String
    public let credits: CreditAmount
    public let remaining: CreditAmount
    public let expiresAt: DateTime?
    public let grantedAt: DateTime
    public let cost: MoneyView
    /// The transfer that created it.
    public let transactionId: Identifier

    init(_ grant: Grant) {
        id = Identifier(String(grant.id))
        source = grant.source.rawValue
        credits = CreditAmount(grant.credits)
        remaining = CreditAmount(grant.remaining)
        expiresAt = grant.expiresAt.map(DateTime.init)
        grantedAt = DateTime(grant.grantedAt)
        cost = MoneyView(grant.cost)
        transactionId = Identifier(String(grant.transferID))
    }
}

/// One draw: credits an outflow took from a grant (or from no grant: overdraft), at their cost.
public struct DrawView: Codable, Sendable {
    public let transactionId: Identifier
    /// nil: credits no grant covered (overdraft).
    public let grantId: Identifier?
    public let credits: CreditAmount
    public let cost: MoneyView

    init(_ draw: GrantDraw) {
        transactionId = Identifier(String(draw.transferID))
        grantId = draw.grantID.map { Identifier(String($0)) }
        credits = CreditAmount(draw.credits)
        cost = MoneyView(draw.cost)
    }
}

/// The input of `voidGrant`.
public struct VoidGrantInput: Codable, Sendable {
    public let grantId: Identifier
    public let idempotencyKey: String
    public let reason: String
}

/// The input of `moveGrantExpiry`.
public struct MoveGrantExpiryInput: Codable, Sendable {
    public let grantId: Identifier
    /// null: the grant never expires.
    public let expiresAt: DateTime?
    public let idempotencyKey: String
    public let reason: String
}

/// `moveGrantExpiry`: the grant as it now is, or why not.
public struct GrantPayload: Codable, Sendable {
    public let grant: GrantView?
    public let userErrors: [UserError]
}

extension LedgerResolver {
    public struct DrawsArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let transactionId: Identifier?
        public let grantId: Identifier?
    }

    public struct GrantsArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let asOf: DateTime?
    }

    /// An organisation's grants, oldest first; with `asOf`, those that had taken effect then, each with
    /// what was left of it then (`LedgerReader.grants(of:asOf:)`).
    public func grants(context: GraphQLRequestContext, arguments: GrantsArguments) async throws -> [GrantView] {
        let organisationID = try authorised(context, arguments.organisationId)
        let asOf = arguments.asOf?.instant
        return try await ledger.read { reader in
            guard try reader.organisationExists(organisationID) else { throw Self.notFound }
            let grants = try asOf.map { try reader.grants(of: organisationID, asOf: $0) } ?? reader.grants(of: organisationID)
            return grants.map(GrantView.init)
        }
    }

    /// Which grants an outflow drew from (`transactionId`), or which outflows drew on a grant (`grantId`).
    public func draws(context: GraphQLRequestContext, arguments: DrawsArguments) async throws -> [DrawView] {
        let organisationID = try authorised(context, arguments.organisationId)
        guard (arguments.transactionId == nil) != (arguments.grantId == nil) else {
            throw GraphQLClientError("Give exactly one of transactionId and grantId.")
        }
        let transferID = try arguments.transactionId.map { try Self.number($0, "transactionId") }
        let grantID = try arguments.grantId.map { try Self.number($0, "grantId") }
        return try await ledger.read { reader in
            // Another organisation's transfer or grant answers as a missing one (I13).
            if let transferID {
                guard try reader.transfer(id: transferID)?.organisationID == organisationID else { return [] }
                return try reader.draws(ofTransfer: transferID).map(DrawView.init)
            }
            guard let grantID, try reader.grant(id: grantID)?.organisationID == organisationID else { return [] }
            return try reader.draws(ofGrant: grantID).map(DrawView.init)
        }
    }

    /// Admin: voids what is left of one grant (a reversal, audited, exactly once per key).
    public func voidGrant(context: GraphQLRequestContext, arguments: MutationArguments<VoidGrantInput>) async throws
        -> CreditPostingPayload
    {
        try Self.requireAdmin(context)
        let input = arguments.input
        let (transaction, userErrors) = try await Self.attempt { () async throws -> TransactionView in
            let grantID = try Self.grantNumber(input.grantId)
            let posting = try await Self.namingReason {
                try await ledger.write(as: context.actor) { tx in
                    try tx.voidGrant(grantID: grantID, idempotencyKey: input.idempotencyKey, reason: input.reason)
                }
            }
            return Self.view(posting.transfer, organisationID: posting.transfer.organisationID)
        }
        return CreditPostingPayload(transaction: transaction, userErrors: userErrors)
    }

    /// Admin: moves one grant's expiry, never before now (audited, exactly once per key).
    public func moveGrantExpiry(
        context: GraphQLRequestContext, arguments: MutationArguments<MoveGrantExpiryInput>
    ) async throws -> GrantPayload {
        try Self.requireAdmin(context)
        let input = arguments.input
        let (grant, userErrors) = try await Self.attempt { () async throws -> GrantView in
            let grantID = try Self.grantNumber(input.grantId)
            return try await Self.namingReason {
                try await ledger.write(as: context.actor) { tx in
                    _ = try tx.moveGrantExpiry(
                        grantID: grantID, to: input.expiresAt?.instant, idempotencyKey: input.idempotencyKey,
                        reason: input.reason)
                    guard let grant = try tx.reader.grant(id: grantID) else { preconditionFailure("the grant was just moved") }
                    return GrantView(grant)
                }
            }
        }
        return GrantPayload(grant: grant, userErrors: userErrors)
    }

    /// A grant control's missing reason is its `reason` field (an administrator posting's is `memo`).
    private static func namingReason<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch AdminPostingRejection.reasonRequired {
            throw UserError(
                UserErrorCode(.reasonRequired), field: .reason, AdminPostingRejection.reasonRequired.description)
        }
    }

    private static func number(_ id: Identifier, _ name: String) throws -> Int64 {
        guard let number = Int64(id.value) else { throw GraphQLClientError("\(name) is not a ledger id.") }
        return number
    }

    private static func grantNumber(_ id: Identifier) throws -> Int64 {
        guard let number = Int64(id.value) else {
            throw UserError(UserErrorCode(.grantNotFound), field: .grantId, "no grant \(id.value)")
        }
        return number
    }
}
