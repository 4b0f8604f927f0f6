import Graphiti
import Ledger

/// An audit statement as GraphQL shows it: the same figures, digest and (with the service's key) signature
/// as `credits ledger audit`, and its movements a page at a time.
public struct AuditStatementView: Sendable {
    public let organisationId: Identifier
    public let from: DateTime
    public let to: DateTime
    public let opening: CreditAmount
    public let closing: CreditAmount
    public let movements: Int
    public let digest: String
    public let signed: Bool
    public let signature: String?
    public let signingPublicKey: String?
    /// Reads the movements when a query selects `entries`, and only then.
    let source: AuditMovementsSource

    public struct EntriesArguments: Codable, Sendable {
        public let first: Int?
        public let after: String?
    }

    /// A page of the movements (`first` 1 to `LedgerResolver.maxPageSize`, default 20), in the statement's
    /// order, each with the running balance before and after it as the whole statement has it.
    public func entries(context: GraphQLRequestContext, arguments: EntriesArguments) async throws
        -> AuditMovementConnection
    {
        let first = try LedgerResolver.pageSize(arguments.first)
        let afterID = try arguments.after.map { try PageCursor.auditMovement.decode($0) }
        let page = try await source.read(first: first + 1, afterTransferID: afterID)
        let edges = page.prefix(first).map { entry in
            AuditMovementEdge(cursor: PageCursor.auditMovement.encode(entry.transferID), node: AuditMovementView(entry))
        }
        return AuditMovementConnection(
            edges: Array(edges),
            pageInfo: PageInfo(cursors: edges.map(\.cursor), hasNextPage: page.count > first, isAfterCursor: afterID != nil))
    }
}

/// The inputs of `entries`: the statement's organisation (already authorised) and window.
struct AuditMovementsSource: Sendable {
    let ledger: any LiveLedger
    let organisationID: String
    let from: Instant
    let to: Instant

    func read(first: Int, afterTransferID: Int64?) async throws -> [AuditEntry] {
        let page = try await ledger.read { [self] reader in
            try reader.auditEntries(of: organisationID, from: from, to: to, afterTransferID: afterTransferID, limit: first)
        }
        guard let page else {
            throw GraphQLClientError("after is not a cursor of this statement; pass a `cursor` or `endCursor` it returned.")
        }
        return page
    }
}

/// One movement of an audit statement.
public struct AuditMovementView: Codable, Sendable {
    public let transactionId: Identifier
    public let kind: TransactionKind
    public let credits: CreditAmount
    public let money: MoneyView
    public let effectiveAt: DateTime
    public let recordedAt: DateTime
    public let actor: String
    public let reason: String?
    public let idempotencyKey: String
    public let reference: String?
    public let balanceBefore: CreditAmount
    public let balanceAfter: CreditAmount

    init(_ entry: AuditEntry) {
        transactionId = Identifier(String(entry.transferID))
        kind = TransactionKind(entry.kind)
        credits = CreditAmount(entry.credits)
        money = MoneyView(entry.money)
        effectiveAt = DateTime(entry.effectiveAt)
        recordedAt = DateTime(entry.recordedAt)
        actor = entry.actor.storedText
        reason = entry.reason
        idempotencyKey = entry.idempotencyKey
        reference = entry.reference
        balanceBefore = CreditAmount(entry.balanceBefore)
        balanceAfter = CreditAmount(entry.balance)
    }
}

public struct AuditMovementEdge: Codable, Sendable {
    public let cursor: String
    public let node: AuditMovementView
}

public struct AuditMovementConnection: Codable, Sendable {
    public let edges: [AuditMovementEdge]
    public let pageInfo: PageInfo
}

extension LedgerResolver {
    public struct AuditStatementArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let from: DateTime
        public let to: DateTime
    }

    /// An organisation's audit statement for `from..<to`: opening and closing balance, how many movements,
    /// the digest `credits ledger audit` prints for the same window, its signature when the service has an
    /// audit key (`credits serve --audit-signing-key`), and the movements as a connection (`entries`).
    public func auditStatement(context: GraphQLRequestContext, arguments: AuditStatementArguments) async throws
        -> AuditStatementView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        guard arguments.from.instant < arguments.to.instant else { throw GraphQLClientError("from must be before to.") }
        let key = auditSigningKey
        let source = AuditMovementsSource(
            ledger: ledger, organisationID: organisationID, from: arguments.from.instant, to: arguments.to.instant)
        return try await ledger.read { reader in
            guard try reader.organisationExists(organisationID) else { throw Self.notFound }
            let statement = try reader.auditStatement(of: organisationID, from: source.from, to: source.to)
                .signed(with: key)
            return AuditStatementView(
                organisationId: arguments.organisationId, from: arguments.from, to: arguments.to,
                opening: CreditAmount(statement.opening), closing: CreditAmount(statement.closing),
                movements: statement.entryCount, digest: statement.digest, signed: statement.signature != nil,
                signature: statement.signature?.hex, signingPublicKey: statement.signature?.publicKey.hex,
                source: source)
        }
    }
}
