import Foundation
import Ledger

extension LedgerResolver {
    public struct UsageArguments: Codable, Sendable {
        public let organisationId: Identifier
        public let from: DateTime
        public let to: DateTime
        public let groupBy: UsageGrouping
        /// The usage as it stood at this instant (`LedgerReader.consumption(of:currency:by:asOf:from:)`).
        public let asOf: DateTime?
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
            return (nil, [UserError(rejection)])
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
        let now = now()
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
                budgets: try reader.budgetStatuses(of: organisation, at: now, holds: true).map(BudgetView.init),
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
        let asOf = arguments.asOf?.instant
        if asOf != nil && grouping.dimension == nil {
            throw GraphQLClientError("asOf groups by TEAM, INVESTIGATION or OPERATION, not DAY.")
        }
        // The report's own GROUP BY queries: one engine for the number, in exact integers.
        return try await ledger.read { reader in
            guard let organisation = try reader.organisation(organisationID) else { throw Self.notFound }
            let currency = organisation.currency
            let groups: [ConsumptionGroup]
            if let asOf, let dimension = grouping.dimension {
                // The window closed at the instant (inclusive), money from the grants that existed then.
                let last = min(asOf, to.adding(milliseconds: -1))
                groups = last < from ? [] : try reader.consumption(
                    of: organisationID, currency: currency, by: dimension, asOf: last, from: from)
                    .map { ConsumptionGroup(key: $0.key.isEmpty ? "(none)" : $0.key, eventCount: $0.eventCount,
                                            credits: $0.credits, money: $0.money) }
            } else if let dimension = grouping.dimension {
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
