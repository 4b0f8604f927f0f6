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

public struct ConfigurationChangesArguments: Codable, Sendable {
    public let first: Int?
    /// The `endCursor` of the page already seen: the page continues with older changes.
    public let after: String?
}

/// One configuration change of a page, with the cursor to continue after it.
public struct ConfigurationChangeEdge: Sendable {
    public let cursor: String
    public let node: ConfigurationChangeView
}

/// A page of an organisation's configuration changes, newest first.
public struct ConfigurationChangeConnection: Sendable {
    public let edges: [ConfigurationChangeEdge]
    public let pageInfo: PageInfo
}

/// The inputs of `configurationChanges`: the organisation whose view it belongs to, already authorised.
struct ConfigurationChangesSource: Sendable {
    let ledger: LedgerDatabase
    let organisationID: String

    func read(first: Int, beforeID: Int64?) async throws -> [ConfigurationChangeView] {
        // A page of a table that grows with use: the async read, off the event loop.
        try await ledger.read { [self] reader in
            try reader.configurationChanges(of: organisationID, beforeID: beforeID, limit: first)
                .map(ConfigurationChangeView.init)
        }
    }
}

/// What a configuration change changed.
public enum ConfigurationSubject: String, Codable, CaseIterable, Sendable {
    case RESERVATION, THRESHOLDS
}

/// One audited change of an organisation's reservations or thresholds.
public struct ConfigurationChangeView: Sendable {
    public let id: Identifier
    /// The ledger's row id, the order of the trail.
    let rowID: Int64
    public let changedAt: DateTime
    /// `key:<key id>` for an API key (the id is the first 16 hex digits of the key's SHA-256), or
    /// `config:<digest prefix>` when `credits init` replaced the value.
    public let actor: String
    public let subject: ConfigurationSubject
    public let reservationId: Identifier?
    /// Nil when the reservation did not exist before.
    public let oldValue: ConfigurationValueView?
    /// Nil when the reservation was removed.
    public let newValue: ConfigurationValueView?

    init(_ record: ConfigurationChangeRecord) {
        id = Identifier(String(record.id))
        rowID = record.id
        changedAt = DateTime(record.changedAt)
        actor = record.actor
        subject = switch record.subject {
        case .reservation: .RESERVATION
        case .thresholds: .THRESHOLDS
        }
        reservationId = record.reservationID.map { Identifier($0) }
        oldValue = record.oldValue.map(ConfigurationValueView.init)
        newValue = record.newValue.map(ConfigurationValueView.init)
    }
}

/// A reservation's terms (`credits`, `maxPriority`) or the thresholds (`lowBalanceCredits`,
/// `lowBalancePercent`, `runwayDays`); the fields of the other subject are null.
public struct ConfigurationValueView: Sendable {
    public let credits: CreditAmount?
    public let maxPriority: Int?
    public let lowBalanceCredits: CreditAmount?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?

    init(_ value: ConfigurationValue) {
        switch value {
        case .reservation(let credits, let priority):
            self.credits = CreditAmount(credits)
            maxPriority = priority.rank
            lowBalanceCredits = nil
            lowBalancePercent = nil
            runwayDays = nil
        case .thresholds(let thresholds):
            credits = nil
            maxPriority = nil
            lowBalanceCredits = thresholds.lowBalanceCredits.map(CreditAmount.init)
            lowBalancePercent = thresholds.lowBalancePercent
            runwayDays = thresholds.runwayDays
        }
    }
}

public struct ReservationView: Codable, Sendable {
    public let id: Identifier
    public let credits: CreditAmount
    /// Investigations of priority rank 1 (P1) up to this rank may spend the reserved credits.
    public let maxPriority: Int
}

/// One group of `usage`: credits and their money cost.
public struct UsageRow: Codable, Sendable {
    public let key: String
    public let credits: CreditAmount
    public let money: MoneyView
    public let deductions: Int
}

/// How `usage` groups deductions.
public enum UsageGrouping: String, Codable, CaseIterable, Sendable {
    case TEAM, INVESTIGATION, OPERATION, DAY

    /// The report query's dimension; nil for DAY, which groups by local day instead.
    var dimension: ConsumptionDimension? {
        switch self {
        case .TEAM: .team
        case .INVESTIGATION: .investigation
        case .OPERATION: .operation
        case .DAY: nil
        }
    }
}

extension LedgerResolver {
    public struct UsageArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let from: DateTime
        public let to: DateTime
        public let groupBy: UsageGrouping
    }

    /// Admin: sets or removes a reservation; answers the organisation as it now is.
    public func setReservation(context: GraphQLRequestContext, arguments: MutationArguments<SetReservationInput>)
        async throws -> OrganisationPayload
    {
        let input = arguments.input
        try Self.requireAdmin(context)
        let (changed, userErrors) = try await Self.attempt { () async throws -> OrganisationView in
            guard let priority = Priority(rank: input.maxPriority), priority != .unprioritised else {
                throw UserError(
                    UserErrorCode(.maxPriorityOutOfRange), field: .maxPriority, "maxPriority must be 1 to 4.")
            }
            let credits = try Self.nonNegative(input.credits, field: .credits)
            guard !input.reservationId.value.isEmpty, input.reservationId.value.utf8.count <= 100 else {
                throw UserError(
                    UserErrorCode(.reservationIdLength), field: .reservationId,
                    "reservationId must be 1 to 100 characters.")
            }
            let attribution = try Self.attribution(context, idempotencyKey: input.idempotencyKey)
            try await ledger.write(as: context.actor) { tx in
                _ = try tx.setReservation(
                    organisationID: input.organisationId.value, reservationID: input.reservationId.value,
                    credits: credits, maxPriority: priority, by: attribution)
            }
            return try await organisation(context: context, arguments: .init(organisationId: input.organisationId))
        }
        return OrganisationPayload(organisation: changed, userErrors: userErrors)
    }

    /// Admin: replaces the low-balance thresholds; answers the organisation as it now is.
    public func setLowBalanceThresholds(
        context: GraphQLRequestContext, arguments: MutationArguments<SetLowBalanceThresholdsInput>
    ) async throws -> OrganisationPayload {
        let input = arguments.input
        try Self.requireAdmin(context)
        let (changed, userErrors) = try await Self.attempt { () async throws -> OrganisationView in
            let credits = try input.lowBalanceCredits.map { try Self.nonNegative($0, field: .lowBalanceCredits) }
            if let percent = input.lowBalancePercent, !(0...100).contains(percent) {
                throw UserError(
                    UserErrorCode(.thresholdOutOfRange), field: .lowBalancePercent,
                    "lowBalancePercent must be 0 to 100.")
            }
            if let days = input.runwayDays, !(0...3650).contains(days) {
                throw UserError(
                    UserErrorCode(.thresholdOutOfRange), field: .runwayDays, "runwayDays must be 0 to 3650.")
            }
            let thresholds = Thresholds(
                lowBalanceCredits: credits, lowBalancePercent: input.lowBalancePercent, runwayDays: input.runwayDays)
            let attribution = try Self.attribution(context, idempotencyKey: input.idempotencyKey)
            try await ledger.write(as: context.actor) { tx in
                _ = try tx.setThresholds(
                    organisationID: input.organisationId.value, thresholds: thresholds, by: attribution)
            }
            return try await organisation(context: context, arguments: .init(organisationId: input.organisationId))
        }
        return OrganisationPayload(organisation: changed, userErrors: userErrors)
    }

    /// Runs a mutation's work: its value, or the expected refusal as `userErrors` (the ledger's typed
    /// rejections, an organisation the caller may not see, the service's own `UserError`s). Anything
    /// else propagates as a GraphQL error with `extensions.code`.
    static func attempt<Value: Sendable>(_ body: () async throws -> Value) async throws -> (Value?, [UserError]) {
        do {
            return (try await body(), [])
        } catch let error as UserError {
            return (nil, [error])
        } catch let error as GraphQLClientError where error == notFound {
            return (nil, [.organisationNotFound])
        } catch let rejection as AdminPostingRejection {
            return (nil, [UserError(rejection)])
        } catch let rejection as GrantControlRejection {
            return (nil, [UserError(rejection)])
        } catch let rejection as PostingRejection {
            guard let userError = UserError(rejection) else { throw GraphQLClientError(rejection.description) }
            return (nil, [userError])
        } catch let rejection as ConfigurationChangeRejection {
            let reused = UserErrorCode(.idempotencyKeyReusedWithDifferentContent)
            return (nil, [UserError(reused, field: .idempotencyKey, rejection.description)])
        }
    }

    static func requireAdmin(_ context: GraphQLRequestContext) throws {
        guard context.principal.isAdmin else {
            throw GraphQLClientError("This operation needs a platform-admin key.", code: .forbidden)
        }
    }

    /// Reservation and threshold credits: zero allowed, negative refused.
    static func nonNegative(_ amount: CreditAmount, field: MutationInputField) throws -> Credits {
        guard !amount.credits.isNegative else {
            throw UserError(
                UserErrorCode(.creditsMustNotBeNegative), field: field, "\(field.rawValue) must not be negative.")
        }
        return amount.credits
    }

    /// Who the audit trail names for a live change: the caller's key, with the mutation's idempotency key.
    static func attribution(_ context: GraphQLRequestContext, idempotencyKey: String) throws
        -> ConfigurationChangeAttribution
    {
        guard (1...AdminPostingRequest.idempotencyKeyBytesMax).contains(idempotencyKey.utf8.count) else {
            throw UserError(AdminPostingRejection.idempotencyKeyLength(max: AdminPostingRequest.idempotencyKeyBytesMax))
        }
        return ConfigurationChangeAttribution(actor: context.actor.storedText, idempotencyKey: idempotencyKey)
    }

    public func organisation(context: GraphQLRequestContext, arguments: OrganisationArguments) async throws
        -> OrganisationView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        return try await ledger.read { reader in
            guard let organisation = try reader.organisation(organisationID) else { throw Self.notFound }
            return OrganisationView(
                id: Identifier(organisation.id), name: organisation.name, locale: organisation.locale,
                currency: organisation.currency.code, timeZone: organisation.timeZone,
                planId: organisation.planID.map { Identifier($0) },
                overdraftLimit: CreditAmount(organisation.overdraftLimit),
                lowBalanceCredits: organisation.thresholds.lowBalanceCredits.map(CreditAmount.init),
                lowBalancePercent: organisation.thresholds.lowBalancePercent,
                runwayDays: organisation.thresholds.runwayDays,
                reservations: organisation.reservations.map {
                    ReservationView(
                        id: Identifier($0.id), credits: CreditAmount($0.credits), maxPriority: $0.maxPriority.rank)
                },
                changes: ConfigurationChangesSource(ledger: ledger, organisationID: organisationID))
        }
    }

    /// Deductions in `[from, to)` grouped by team, investigation, operation or day (in the organisation's
    /// time zone), with their money cost from the grants they drew on (overdraft included once a grant settled it).
    public func usage(context: GraphQLRequestContext, arguments: UsageArguments) async throws -> [UsageRow] {
        let organisationID = try authorised(context, arguments.organisationId)
        let from = arguments.from.instant
        let to = arguments.to.instant
        guard from < to, to.millisecondsSinceEpoch - from.millisecondsSinceEpoch <= 400 * Instant.millisecondsPerDay
        else { throw GraphQLClientError("from must be before to, at most 400 days apart.") }
        let grouping = arguments.groupBy
        // The report's own GROUP BY queries: one engine for the number, in exact integers.
        return try await ledger.read { reader in
            guard let organisation = try reader.organisation(organisationID) else { throw Self.notFound }
            let currency = organisation.currency
            let groups: [ConsumptionGroup]
            if let dimension = grouping.dimension {
                groups = try reader.consumption(
                    of: organisationID, currency: currency, in: ReportWindow(start: from, end: to), by: dimension)
                    .map { ConsumptionGroup(key: $0.key.isEmpty ? "(none)" : $0.key, eventCount: $0.eventCount,
                                            credits: $0.credits, money: $0.money) }
            } else {
                let zone = TimeZone(identifier: organisation.timeZone) ?? TimeZone(identifier: "UTC")!
                let starts = Self.localDayStarts(from: from, to: to, zone: zone)
                groups = try reader.dailyConsumption(of: organisationID, currency: currency, days: starts, end: to)
                    .enumerated().filter { $0.element.eventCount > 0 }
                    .map { index, group in
                        ConsumptionGroup(key: LocalDate.of(starts[index], in: zone).description, eventCount: group.eventCount,
                                         credits: group.credits, money: group.money)
                    }
            }
            return groups.map { group in
                UsageRow(
                    key: group.key, credits: CreditAmount(group.credits), money: MoneyView(group.money),
                    deductions: Int(group.eventCount))
            }
        }
    }

    /// `from`, then each local midnight after it and before `to`: the day buckets of a usage query.
    static func localDayStarts(from: Instant, to: Instant, zone: TimeZone) -> [Instant] {
        var starts = [from]
        var day = LocalDate.of(from, in: zone).adding(days: 1)
        while day.startInstant(in: zone) < to {
            starts.append(day.startInstant(in: zone))
            day = day.adding(days: 1)
        }
        return starts
    }

    /// Admin: grants an allocation.
    public func allocateCredits(context: GraphQLRequestContext, arguments: MutationArguments<CreditPostingInput>)
        async throws -> CreditPostingPayload
    {
        try await post(context, arguments.input, kind: .allocation)
    }

    /// Admin: grants a top-up, optionally with the price paid (its cost basis).
    public func topUpCredits(context: GraphQLRequestContext, arguments: MutationArguments<CreditPostingInput>)
        async throws -> CreditPostingPayload
    {
        try await post(context, arguments.input, kind: .topUp)
    }

    /// Admin: corrects a balance; positive credits grant, negative credits draw down. A memo is required.
    public func adjustCredits(context: GraphQLRequestContext, arguments: MutationArguments<CreditPostingInput>)
        async throws -> CreditPostingPayload
    {
        try await post(context, arguments.input, kind: .adjustment)
    }

    /// Posts through the Ledger's `postAdmin`, the rule `credits ledger allocate|top-up|adjust` shares:
    /// a retry with the same key, organisation, kind and amount returns the earlier transfer. The
    /// ledger's refusals (`AdminPostingRejection`, `PostingRejection`) are the payload's `userErrors`.
    private func post(
        _ context: GraphQLRequestContext, _ input: CreditPostingInput, kind: AdminPostingRequest.Kind
    ) async throws -> CreditPostingPayload {
        try Self.requireAdmin(context)
        let organisationID = input.organisationId.value
        let request = AdminPostingRequest(
            kind: kind, idempotencyKey: input.idempotencyKey, organisationID: organisationID,
            credits: input.credits.credits, price: input.priceMinorUnits.map { .minorUnits($0.value) },
            effectiveAt: now(), memo: input.memo)
        let (transaction, userErrors) = try await Self.attempt { () async throws -> TransactionView in
            let posting = try await ledger.write(as: context.actor) { tx in try tx.postAdmin(request) }
            return Self.view(posting.transfer, organisationID: organisationID)
        }
        return CreditPostingPayload(transaction: transaction, userErrors: userErrors)
    }
}
