import Graphiti
import Ledger

/// Resolvers over the ledger. Every one that takes an organisation id checks the caller may see it and
/// answers "Organisation not found." otherwise, so a foreign id and a missing id look the same (I13).
public struct LedgerResolver: Sendable {
    /// Largest page a connection (`transactions`, `configurationChanges`) returns; larger requests are
    /// refused, not truncated. `GraphQLLimits.maxComplexity` admits a full page with every field selected.
    public static let maxPageSize = 100
    /// The page size when `first` is not given.
    public static let defaultPageSize = 20

    let ledger: any LiveLedger
    let now: NowProvider
    /// Creates Revolut orders for `purchaseCreditPackage`; nil when the service has no Revolut credentials.
    let revolut: (any RevolutOrdersAPI)?
    /// Signs `auditStatement`'s digest; nil: statements are answered unsigned.
    let auditSigningKey: AuditSigningKey?

    public init(
        ledger: any LiveLedger, now: @escaping NowProvider, revolut: (any RevolutOrdersAPI)? = nil,
        auditSigningKey: AuditSigningKey? = nil
    ) {
        self.ledger = ledger
        self.now = now
        self.revolut = revolut
        self.auditSigningKey = auditSigningKey
    }

    public struct BalanceArguments: Codable, Sendable {
        public let organisationId: Identifier
        /// The balance as it stood at this instant (`LedgerReader.balance(of:asOf:)`); nil: now.
        public let asOf: DateTime?

        public init(organisationId: Identifier, asOf: DateTime? = nil) {
            self.organisationId = organisationId
            self.asOf = asOf
        }
    }

    public struct OrganisationArguments: Codable, Sendable {
        public let organisationId: Identifier

        public init(organisationId: Identifier) {
            self.organisationId = organisationId
        }
    }

    public struct TransactionsArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let first: Int?
        public let after: String?
        public let from: DateTime?
        public let to: DateTime?
        public let kinds: [TransactionKind]?
    }

    public func health(context: GraphQLRequestContext, arguments: NoArguments) -> String { "ok" }

    public func serverTime(context: GraphQLRequestContext, arguments: NoArguments) -> DateTime { DateTime(now()) }

    public func creditBalance(context: GraphQLRequestContext, arguments: BalanceArguments) async throws
        -> CreditBalanceView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        let asOf = arguments.asOf?.instant ?? now()
        let balance: Balance
        do {
            if let past = arguments.asOf?.instant {
                balance = try await ledger.read { reader in
                    try reader.balance(of: organisationID, asOf: past)
                        .holding(try reader.heldCredits(of: organisationID, asOf: past))
                }
            } else {
                // One statement, so one consistent state: a point read (LiveLedger.pointRead).
                balance = try await ledger.pointRead { try $0.balance(of: organisationID, holdsAt: asOf) }
            }
        } catch PostingRejection.organisationNotFound {
            throw Self.notFound
        }
        let spendable = max(.zero, balance.spendable(for: .unprioritised))
        // The runway is the runway alert's rule, which judges the balance without holds (docs/ALERTS.md).
        let unheld = max(.zero, balance.holding(.zero).spendable(for: .unprioritised))
        return CreditBalanceView(
            organisationId: Identifier(organisationID), available: CreditAmount(balance.available),
            reserved: CreditAmount(balance.reserved), held: CreditAmount(balance.held),
            spendable: CreditAmount(spendable), currency: balance.currency.code, asOf: DateTime(asOf),
            runway: RunwayEstimate(ledger: ledger, organisationID: organisationID, spendable: unheld, asOf: asOf))
    }

    public func transactions(context: GraphQLRequestContext, arguments: TransactionsArguments) async throws
        -> TransactionConnection
    {
        let organisationID = try authorised(context, arguments.organisationId)
        let first = try Self.pageSize(arguments.first)
        let afterID = try arguments.after.map { try PageCursor.transaction.decode($0) }
        let from = arguments.from?.instant
        let to = arguments.to?.instant
        let kinds = Set((arguments.kinds ?? []).map(\.transferKind))
        let page = try await ledger.read { reader in
            guard try reader.organisationExists(organisationID) else { throw Self.notFound }
            return try reader.history(
                of: organisationID, from: from, to: to, kinds: kinds, afterID: afterID, limit: first + 1)
        }
        let edges = page.prefix(first).map { transfer in
            TransactionEdge(
                cursor: PageCursor.transaction.encode(transfer.id),
                node: Self.view(transfer, organisationID: organisationID))
        }
        return TransactionConnection(
            edges: edges,
            pageInfo: PageInfo(
                cursors: edges.map(\.cursor), hasNextPage: page.count > first, isAfterCursor: afterID != nil))
    }

    /// `first` of a connection: `defaultPageSize` when absent, refused outside 1...`maxPageSize`.
    static func pageSize(_ first: Int?) throws -> Int {
        let size = first ?? defaultPageSize
        guard (1...maxPageSize).contains(size) else {
            throw GraphQLClientError("first must be between 1 and \(maxPageSize).")
        }
        return size
    }

    /// Packages priced in the organisation's currency.
    public func creditPackages(context: GraphQLRequestContext, arguments: OrganisationArguments) async throws
        -> [CreditPackageView]
    {
        let organisationID = try authorised(context, arguments.organisationId)
        return try await ledger.read { reader in
            guard let organisation = try reader.organisation(organisationID) else { throw Self.notFound }
            return try reader.creditPackages().map { package in
                CreditPackageView(
                    id: Identifier(package.id), name: package.name, credits: CreditAmount(package.credits),
                    price: package.price(in: organisation.currency).map(MoneyView.init))
            }
        }
    }

    /// Buys a package: records the purchase, creates the Revolut order, returns its checkout URL.
    public func purchaseCreditPackage(
        context: GraphQLRequestContext, arguments: MutationArguments<PurchaseCreditPackageInput>
    ) async throws -> PurchaseCreditPackagePayload {
        let input = arguments.input
        let (purchase, userErrors) = try await Self.attempt { () async throws -> PurchaseView in
            let organisationID = try authorised(context, input.organisationId)
            guard let revolut else {
                throw GraphQLClientError("Purchases are not available on this service.", code: .unavailable)
            }
            return try await PurchaseService(ledger: ledger, revolut: revolut, now: now).purchase(
                organisationID: organisationID, packageID: input.packageId.value, idempotencyKey: input.idempotencyKey,
                by: context.actor)
        }
        return PurchaseCreditPackagePayload(purchase: purchase, userErrors: userErrors)
    }

    static let notFound = GraphQLClientError("Organisation not found.", code: .notFound)

    /// The organisation's id if the caller may see it. Queries answer "Organisation not found." (NOT_FOUND)
    /// otherwise; mutations catch it as the `organisationNotFound` user error.
    func authorised(_ context: GraphQLRequestContext, _ organisationID: Identifier) throws -> String {
        guard context.principal.mayAccess(organisationID: organisationID.value) else { throw Self.notFound }
        return organisationID.value
    }

    static func view(_ transfer: Transfer, organisationID: String) -> TransactionView {
        let references = transfer.references
        return TransactionView(
            id: Identifier(String(transfer.id)), kind: TransactionKind(transfer.kind),
            credits: CreditAmount(transfer.signedAmount(for: organisationID)), money: MoneyView(transfer.money),
            effectiveAt: DateTime(transfer.effectiveAt), costEventId: references.costEventID.map { Identifier($0) },
            revolutOrderId: references.revolutOrderID.map { Identifier($0) }, team: references.team,
            investigation: references.investigation, operation: references.operation, memo: references.memo,
            actor: transfer.actor.storedText, balanceBefore: CreditAmount(transfer.balanceBefore),
            balanceAfter: CreditAmount(transfer.balanceAfter))
    }
}
