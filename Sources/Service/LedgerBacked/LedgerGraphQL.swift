import Graphiti
import Ledger

/// An organisation's balance as the API shows it. Credits are exact decimal strings (GraphQL `Int` is
/// 32-bit and `Float` is binary), money is integer minor units plus the currency code.
public struct CreditBalanceView: Sendable {
    public let organisationId: String
    public let available: String
    public let reserved: String
    public let spendable: String
    public let currency: String
    public let asOf: String
    /// Computes `runwayDays` when a query selects it, and only then: it reads 30 days of deductions,
    /// which grows with use, while the rest of the balance is three point lookups.
    let runway: RunwayEstimate

    /// Whole days the spendable balance lasts at the trailing 30-day burn rate; nil when nothing was spent.
    public func runwayDays(context: GraphQLRequestContext, arguments: NoArguments) async throws -> Int? {
        try await runway.days()
    }
}

/// The inputs of `runwayDays`, read from the same instant as the balance it belongs to.
struct RunwayEstimate: Sendable {
    let ledger: LedgerDatabase
    let organisationID: String
    let spendable: Credits
    let asOf: Instant

    func days() async throws -> Int? {
        // A scan whose cost grows with the organisation's usage: the async read, off the event loop.
        try await ledger.read { [self] reader in
            try LedgerResolver.runwayDays(reader, organisationID, spendable: spendable, asOf: asOf)
        }
    }
}

/// The kind of a ledger transfer as a GraphQL enum (`TOP_UP` is the ledger's `top_up`). Both mappings are
/// exhaustive switches, so a new ledger kind does not compile until the API says how to show it.
public enum TransactionKind: String, Codable, CaseIterable, Sendable {
    case ALLOCATION, TOP_UP, DEDUCTION, EXPIRY, REVERSAL, ADJUSTMENT

    init(_ kind: TransferKind) {
        switch kind {
        case .allocation: self = .ALLOCATION
        case .topUp: self = .TOP_UP
        case .deduction: self = .DEDUCTION
        case .expiry: self = .EXPIRY
        case .reversal: self = .REVERSAL
        case .adjustment: self = .ADJUSTMENT
        }
    }

    var transferKind: TransferKind {
        switch self {
        case .ALLOCATION: .allocation
        case .TOP_UP: .topUp
        case .DEDUCTION: .deduction
        case .EXPIRY: .expiry
        case .REVERSAL: .reversal
        case .ADJUSTMENT: .adjustment
        }
    }
}

/// One ledger transfer seen from the organisation: `credits` is positive for inflows, negative for outflows.
public struct TransactionView: Codable, Sendable {
    public let id: String
    public let kind: TransactionKind
    public let credits: String
    public let moneyMinorUnits: String
    public let currency: String
    public let effectiveAt: String
    public let costEventId: String?
    public let revolutOrderId: String?
    public let team: String?
    public let investigation: String?
    public let operation: String?
    public let memo: String?
}

public struct TransactionEdge: Codable, Sendable {
    public let cursor: String
    public let node: TransactionView
}

/// Relay's `PageInfo`. Pages run forwards (`first`/`after`): `hasPreviousPage` is true when the page
/// starts after a cursor, since the cursor's own transaction comes before it.
public struct PageInfo: Codable, Sendable {
    public let hasNextPage: Bool
    public let hasPreviousPage: Bool
    public let startCursor: String?
    public let endCursor: String?
}

public struct TransactionConnection: Codable, Sendable {
    public let edges: [TransactionEdge]
    public let pageInfo: PageInfo
}

/// Resolvers over the ledger. Every one that takes an organisation id checks the caller may see it and
/// answers "Organisation not found." otherwise, so a foreign id and a missing id look the same (I13).
public struct LedgerResolver: Sendable {
    /// Largest page `transactions(first:)` returns; larger requests are refused, not truncated.
    public static let maxPageSize = 100

    let ledger: LedgerDatabase
    let now: NowProvider
    /// Creates Revolut orders for `purchaseCreditPackage`; nil when the service has no Revolut credentials.
    let revolut: (any RevolutOrdersAPI)?

    public init(ledger: LedgerDatabase, now: @escaping NowProvider, revolut: (any RevolutOrdersAPI)? = nil) {
        self.ledger = ledger
        self.now = now
        self.revolut = revolut
    }

    public struct PurchaseArguments: Codable, Sendable {
        public let organisationId: String
        public let packageId: String
        public let idempotencyKey: String
    }

    public struct OrganisationArguments: Codable, Sendable {
        public let organisationId: String

        public init(organisationId: String) {
            self.organisationId = organisationId
        }
    }

    public struct TransactionsArguments: Codable, Sendable {
        public let organisationId: String
        public let first: Int?
        public let after: String?
        public let from: String?
        public let to: String?
        public let kinds: [TransactionKind]?
    }

    public func health(context: GraphQLRequestContext, arguments: NoArguments) -> String { "ok" }

    public func serverTime(context: GraphQLRequestContext, arguments: NoArguments) -> String { now().iso8601 }

    public func creditBalance(context: GraphQLRequestContext, arguments: OrganisationArguments) async throws
        -> CreditBalanceView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        let asOf = now()
        // One statement, so one consistent state: a point read (LedgerDatabase.pointRead).
        let balance: Balance
        do {
            balance = try ledger.pointRead { try $0.balance(of: organisationID) }
        } catch PostingRejection.organisationNotFound {
            throw Self.notFound
        }
        let spendable = max(.zero, balance.spendable(for: .unprioritised))
        return CreditBalanceView(
            organisationId: organisationID, available: balance.available.description,
            reserved: balance.reserved.description, spendable: spendable.description,
            currency: balance.currency.code, asOf: asOf.iso8601,
            runway: RunwayEstimate(ledger: ledger, organisationID: organisationID, spendable: spendable, asOf: asOf))
    }

    public func transactions(context: GraphQLRequestContext, arguments: TransactionsArguments) async throws
        -> TransactionConnection
    {
        let organisationID = try authorised(context, arguments.organisationId)
        let first = arguments.first ?? 20
        guard (1...Self.maxPageSize).contains(first) else {
            throw GraphQLClientError("first must be between 1 and \(Self.maxPageSize).")
        }
        let afterID = try arguments.after.map(Self.decodeCursor)
        let from = try arguments.from.map { try Self.instant($0, name: "from") }
        let to = try arguments.to.map { try Self.instant($0, name: "to") }
        let kinds = Set((arguments.kinds ?? []).map(\.transferKind))
        let page = try await ledger.read { reader in
            guard try reader.organisationExists(organisationID) else { throw Self.notFound }
            return try reader.history(
                of: organisationID, from: from, to: to, kinds: kinds, afterID: afterID, limit: first + 1)
        }
        let edges = page.prefix(first).map { transfer in
            TransactionEdge(cursor: Self.cursor(transfer.id), node: Self.view(transfer, organisationID: organisationID))
        }
        return TransactionConnection(
            edges: edges,
            pageInfo: PageInfo(
                hasNextPage: page.count > first, hasPreviousPage: afterID != nil, startCursor: edges.first?.cursor,
                endCursor: edges.last?.cursor))
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
                    id: package.id, name: package.name, credits: package.credits.description,
                    priceMinorUnits: package.price(in: organisation.currency).map { String($0.minorUnits) },
                    currency: organisation.currency.code)
            }
        }
    }

    /// Buys a package: records the purchase, creates the Revolut order, returns its checkout URL.
    public func purchaseCreditPackage(context: GraphQLRequestContext, arguments: PurchaseArguments) async throws
        -> PurchaseView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        guard let revolut else { throw GraphQLClientError("Purchases are not available on this service.", code: .unavailable) }
        return try await PurchaseService(ledger: ledger, revolut: revolut, now: now).purchase(
            organisationID: organisationID, packageID: arguments.packageId, idempotencyKey: arguments.idempotencyKey)
    }

    static let notFound = GraphQLClientError("Organisation not found.", code: .notFound)

    /// Days of `spendable` at the average daily deductions of the 30 days before `asOf` (rounded down).
    static func runwayDays(_ reader: LedgerReader, _ organisationID: String, spendable: Credits, asOf: Instant) throws
        -> Int?
    {
        let window = 30
        var burned: Int64 = 0
        var afterID: Int64?
        while true {
            let page = try reader.history(
                of: organisationID, from: asOf.adding(days: -window), to: asOf, kinds: [.deduction],
                afterID: afterID, limit: 1000)
            for transfer in page {
                let (sum, overflow) = burned.addingReportingOverflow(transfer.amount.microcredits)
                burned = overflow ? Int64.max : sum
            }
            guard page.count == 1000, let last = page.last else { break }
            afterID = last.id
        }
        guard burned > 0 else { return nil }
        // spendable / (burned / window) in integers: spendable × window / burned, in full width. Capped at
        // a century, which also keeps it inside GraphQL's 32-bit Int.
        let cap: Int64 = 36_500
        let days = spendable.microcredits.multipliedFullWidth(by: Int64(window))
        guard days.high == 0, days.low / UInt64(burned) < UInt64(cap) else { return Int(cap) }
        return Int(days.low / UInt64(burned))
    }

    func authorised(_ context: GraphQLRequestContext, _ organisationID: String) throws -> String {
        guard context.principal.mayAccess(organisationID: organisationID) else { throw Self.notFound }
        return organisationID
    }

    static func cursor(_ id: Int64) -> String { "t\(id)" }

    static func decodeCursor(_ text: String) throws -> Int64 {
        guard text.hasPrefix("t"), let id = Int64(text.dropFirst()), id >= 0 else {
            throw GraphQLClientError("Invalid cursor.")
        }
        return id
    }

    static func instant(_ text: String, name: String) throws -> Instant {
        switch Instant.parse(text) {
        case .success(let instant): return instant
        case .failure(let error): throw GraphQLClientError("\(name): \(error)")
        }
    }

    static func view(_ transfer: Transfer, organisationID: String) -> TransactionView {
        let inflow = transfer.creditAccount == AccountID.available(organisationID: organisationID).rawValue
        let references = transfer.references
        return TransactionView(
            id: String(transfer.id), kind: TransactionKind(transfer.kind),
            credits: (inflow ? transfer.amount : transfer.amount.negated).description,
            moneyMinorUnits: String(transfer.money.minorUnits), currency: transfer.money.currency.code,
            effectiveAt: transfer.effectiveAt.iso8601, costEventId: references.costEventID,
            revolutOrderId: references.revolutOrderID, team: references.team, investigation: references.investigation,
            operation: references.operation, memo: references.memo)
    }
}

/// The ledger-backed GraphQL schema: queries `health`, `serverTime`, `creditBalance`, `transactions`,
/// `creditPackages`, `organisation` (with its `configurationChanges`), `usage`; mutations
/// `purchaseCreditPackage` and, for platform-admin keys, `allocateCredits`, `topUpCredits`, `adjustCredits`, `setReservation`, `setLowBalanceThresholds`.
public enum LedgerSchema {
    public static func make() throws -> Schema<LedgerResolver, GraphQLRequestContext> {
        try Schema<LedgerResolver, GraphQLRequestContext> {
            Type(CreditBalanceView.self, as: "CreditBalance") {
                Field("organisationId", at: \.organisationId)
                Field("available", at: \.available)
                Field("reserved", at: \.reserved)
                Field("spendable", at: \.spendable)
                Field("currency", at: \.currency)
                Field("asOf", at: \.asOf)
                Field("runwayDays", at: CreditBalanceView.runwayDays)
            }
            Enum(TransactionKind.self) {
                Value(.ALLOCATION)
                Value(.TOP_UP)
                Value(.DEDUCTION)
                Value(.EXPIRY)
                Value(.REVERSAL)
                Value(.ADJUSTMENT)
            }
            Type(TransactionView.self, as: "Transaction") {
                Field("id", at: \.id)
                Field("kind", at: \.kind)
                Field("credits", at: \.credits)
                Field("moneyMinorUnits", at: \.moneyMinorUnits)
                Field("currency", at: \.currency)
                Field("effectiveAt", at: \.effectiveAt)
                Field("costEventId", at: \.costEventId)
                Field("revolutOrderId", at: \.revolutOrderId)
                Field("team", at: \.team)
                Field("investigation", at: \.investigation)
                Field("operation", at: \.operation)
                Field("memo", at: \.memo)
            }
            Type(TransactionEdge.self) {
                Field("cursor", at: \.cursor)
                Field("node", at: \.node)
            }
            Type(PageInfo.self) {
                Field("hasNextPage", at: \.hasNextPage)
                Field("hasPreviousPage", at: \.hasPreviousPage)
                Field("startCursor", at: \.startCursor)
                Field("endCursor", at: \.endCursor)
            }
            Type(TransactionConnection.self) {
                Field("edges", at: \.edges)
                Field("pageInfo", at: \.pageInfo)
            }
            Type(CreditPackageView.self, as: "CreditPackage") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("credits", at: \.credits)
                Field("priceMinorUnits", at: \.priceMinorUnits)
                Field("currency", at: \.currency)
            }
            Type(PurchaseView.self, as: "Purchase") {
                Field("reference", at: \.reference)
                Field("organisationId", at: \.organisationId)
                Field("packageId", at: \.packageId)
                Field("credits", at: \.credits)
                Field("amountMinorUnits", at: \.amountMinorUnits)
                Field("currency", at: \.currency)
                Field("orderId", at: \.orderId)
                Field("checkoutUrl", at: \.checkoutUrl)
            }
            Enum(UsageGrouping.self) {
                Value(.TEAM)
                Value(.INVESTIGATION)
                Value(.OPERATION)
                Value(.DAY)
            }
            Type(ReservationView.self, as: "Reservation") {
                Field("id", at: \.id)
                Field("credits", at: \.credits)
                Field("maxPriority", at: \.maxPriority)
            }
            Enum(ConfigurationSubject.self) {
                Value(.RESERVATION)
                Value(.THRESHOLDS)
            }
            Type(ConfigurationValueView.self, as: "ConfigurationValue") {
                Field("credits", at: \.credits)
                Field("maxPriority", at: \.maxPriority)
                Field("lowBalanceCredits", at: \.lowBalanceCredits)
                Field("lowBalancePercent", at: \.lowBalancePercent)
                Field("runwayDays", at: \.runwayDays)
            }
            Type(ConfigurationChangeView.self, as: "ConfigurationChange") {
                Field("id", at: \.id)
                Field("changedAt", at: \.changedAt)
                Field("actor", at: \.actor)
                Field("subject", at: \.subject)
                Field("reservationId", at: \.reservationId)
                Field("oldValue", at: \.oldValue)
                Field("newValue", at: \.newValue)
            }
            Type(OrganisationView.self, as: "Organisation") {
                Field("id", at: \.id)
                Field("name", at: \.name)
                Field("locale", at: \.locale)
                Field("currency", at: \.currency)
                Field("timeZone", at: \.timeZone)
                Field("planId", at: \.planId)
                Field("overdraftLimit", at: \.overdraftLimit)
                Field("lowBalanceCredits", at: \.lowBalanceCredits)
                Field("lowBalancePercent", at: \.lowBalancePercent)
                Field("runwayDays", at: \.runwayDays)
                Field("reservations", at: \.reservations)
                Field("configurationChanges", at: OrganisationView.configurationChanges) {
                    Argument("first", at: \.first)
                    Argument("after", at: \.after)
                }
            }
            Type(UsageRow.self) {
                Field("key", at: \.key)
                Field("credits", at: \.credits)
                Field("moneyMinorUnits", at: \.moneyMinorUnits)
                Field("currency", at: \.currency)
                Field("deductions", at: \.deductions)
            }
            Query {
                Field("health", at: LedgerResolver.health)
                Field("serverTime", at: LedgerResolver.serverTime)
                Field("creditBalance", at: LedgerResolver.creditBalance) {
                    Argument("organisationId", at: \.organisationId)
                }
                Field("transactions", at: LedgerResolver.transactions) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("first", at: \.first)
                    Argument("after", at: \.after)
                    Argument("from", at: \.from)
                    Argument("to", at: \.to)
                    Argument("kinds", at: \.kinds)
                }
                Field("creditPackages", at: LedgerResolver.creditPackages) {
                    Argument("organisationId", at: \.organisationId)
                }
                Field("organisation", at: LedgerResolver.organisation) {
                    Argument("organisationId", at: \.organisationId)
                }
                Field("usage", at: LedgerResolver.usage) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("from", at: \.from)
                    Argument("to", at: \.to)
                    Argument("groupBy", at: \.groupBy)
                }
            }
            Mutation {
                Field("purchaseCreditPackage", at: LedgerResolver.purchaseCreditPackage) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("packageId", at: \.packageId)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                }
                Field("allocateCredits", at: LedgerResolver.allocateCredits) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("credits", at: \.credits)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                    Argument("memo", at: \.memo)
                    Argument("priceMinorUnits", at: \.priceMinorUnits)
                }
                Field("topUpCredits", at: LedgerResolver.topUpCredits) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("credits", at: \.credits)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                    Argument("memo", at: \.memo)
                    Argument("priceMinorUnits", at: \.priceMinorUnits)
                }
                Field("setReservation", at: LedgerResolver.setReservation) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("reservationId", at: \.reservationId)
                    Argument("credits", at: \.credits)
                    Argument("maxPriority", at: \.maxPriority)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                }
                Field("setLowBalanceThresholds", at: LedgerResolver.setLowBalanceThresholds) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("lowBalanceCredits", at: \.lowBalanceCredits)
                    Argument("lowBalancePercent", at: \.lowBalancePercent)
                    Argument("runwayDays", at: \.runwayDays)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                }
                Field("adjustCredits", at: LedgerResolver.adjustCredits) {
                    Argument("organisationId", at: \.organisationId)
                    Argument("credits", at: \.credits)
                    Argument("idempotencyKey", at: \.idempotencyKey)
                    Argument("memo", at: \.memo)
                    Argument("priceMinorUnits", at: \.priceMinorUnits)
                }
            }
        }
    }

    /// The endpoint serving this schema, with the balance query compiled (`CreditBalancePlan`).
    public static func endpoint(
        ledger: LedgerDatabase, now: @escaping NowProvider, limits: GraphQLLimits, metrics: MetricsRegistry,
        revolut: (any RevolutOrdersAPI)? = nil
    ) throws -> GraphQLEndpoint<LedgerResolver, GraphQLRequestContext> {
        let resolver = LedgerResolver(ledger: ledger, now: now, revolut: revolut)
        return GraphQLEndpoint(
            schema: try make(), resolver: resolver, limits: limits, metrics: metrics,
            compiler: { document in
                CreditBalancePlan.compile(document).map { plan in
                    CompiledGraphQLQuery { request, context in
                        await plan.run(request, context: context, resolver: resolver)
                    }
                }
            },
            makeContext: { GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2) })
    }
}
