import Foundation
import Ledger

/// An organisation's settings as the API shows them.
public struct OrganisationView: Sendable {
    public let id: String
    public let name: String
    public let locale: String
    public let currency: String
    public let timeZone: String
    public let planId: String?
    public let overdraftLimit: String
    public let lowBalanceCredits: String?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?
    public let reservations: [ReservationView]
    /// Reads the audit trail when a query selects `configurationChanges`, and only then.
    let changes: ConfigurationChangesSource

    /// The organisation's live configuration changes, newest first (`first` 1..100, default 20): who
    /// (the API key id, or `config:<digest>` for `credits init`), when, what, and the old and new values.
    /// The next page: `after` the `id` of the last change of this one. Visible to whoever may see the
    /// organisation, like the rest of it.
    public func configurationChanges(context: GraphQLRequestContext, arguments: ConfigurationChangesArguments)
        async throws -> [ConfigurationChangeView]
    {
        let first = arguments.first ?? 20
        guard (1...100).contains(first) else { throw GraphQLClientError("first must be 1 to 100.") }
        var beforeID: Int64?
        if let after = arguments.after {
            // Ids are positive integers (`ConfigurationChange.id`); anything else cannot name a change.
            guard let id = Int64(after), id > 0, String(id) == after else {
                throw GraphQLClientError("after must be the id of a configuration change.")
            }
            beforeID = id
        }
        return try await changes.read(first: first, beforeID: beforeID)
    }
}

public struct ConfigurationChangesArguments: Codable, Sendable {
    public let first: Int?
    /// The `id` of the last change already seen: the page continues with older changes.
    public let after: String?
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
    public let id: String
    public let changedAt: String
    /// `key:<key id>` for an API key (the id is the first 16 hex digits of the key's SHA-256), or
    /// `config:<digest prefix>` when `credits init` replaced the value.
    public let actor: String
    public let subject: ConfigurationSubject
    public let reservationId: String?
    /// Nil when the reservation did not exist before.
    public let oldValue: ConfigurationValueView?
    /// Nil when the reservation was removed.
    public let newValue: ConfigurationValueView?

    init(_ record: ConfigurationChangeRecord) {
        id = String(record.id)
        changedAt = record.changedAt.iso8601
        actor = record.actor
        subject = switch record.subject {
        case .reservation: .RESERVATION
        case .thresholds: .THRESHOLDS
        }
        reservationId = record.reservationID
        oldValue = record.oldValue.map(ConfigurationValueView.init)
        newValue = record.newValue.map(ConfigurationValueView.init)
    }
}

/// A reservation's terms (`credits`, `maxPriority`) or the thresholds (`lowBalanceCredits`,
/// `lowBalancePercent`, `runwayDays`); the fields of the other subject are null.
public struct ConfigurationValueView: Sendable {
    public let credits: String?
    public let maxPriority: Int?
    public let lowBalanceCredits: String?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?

    init(_ value: ConfigurationValue) {
        switch value {
        case .reservation(let credits, let priority):
            self.credits = credits.description
            maxPriority = priority.rank
            lowBalanceCredits = nil
            lowBalancePercent = nil
            runwayDays = nil
        case .thresholds(let thresholds):
            credits = nil
            maxPriority = nil
            lowBalanceCredits = thresholds.lowBalanceCredits?.description
            lowBalancePercent = thresholds.lowBalancePercent
            runwayDays = thresholds.runwayDays
        }
    }
}

public struct ReservationView: Codable, Sendable {
    public let id: String
    public let credits: String
    /// Investigations of priority rank 1 (P1) up to this rank may spend the reserved credits.
    public let maxPriority: Int
}

/// One group of `usage`: credits and their money cost.
public struct UsageRow: Codable, Sendable {
    public let key: String
    public let credits: String
    public let moneyMinorUnits: String
    public let currency: String
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
        public let organisationId: String
        public let from: String
        public let to: String
        public let groupBy: UsageGrouping
    }

    public struct PostingArguments: Codable, Sendable {
        public let organisationId: String
        /// Exact decimal; signed for `adjustCredits`, positive otherwise.
        public let credits: String
        public let idempotencyKey: String
        public let memo: String?
        /// For `topUpCredits`: the price paid, integer minor units of the organisation's currency.
        public let priceMinorUnits: String?
    }

    public struct ReservationArguments: Codable, Sendable {
        public let organisationId: String
        public let reservationId: String
        /// Credits kept back; "0" removes the reservation.
        public let credits: String
        /// Investigations of priority 1 (P1) up to this rank may spend the reserve.
        public let maxPriority: Int
        /// A retry with the same key changes nothing and records no second audit row; the key used for
        /// a different change is refused.
        public let idempotencyKey: String
    }

    public struct ThresholdArguments: Codable, Sendable {
        public let organisationId: String
        public let lowBalanceCredits: String?
        public let lowBalancePercent: Int?
        public let runwayDays: Int?
        /// As for `setReservation`.
        public let idempotencyKey: String
    }

    /// Admin: sets or removes a reservation; returns the organisation as it now is.
    public func setReservation(context: GraphQLRequestContext, arguments: ReservationArguments) async throws
        -> OrganisationView
    {
        guard context.principal.isAdmin else { throw GraphQLClientError("This operation needs a platform-admin key.", code: .forbidden) }
        guard let priority = Priority(rank: arguments.maxPriority), priority != .unprioritised else {
            throw GraphQLClientError("maxPriority must be 1 to 4.")
        }
        let credits = try Self.credits(arguments.credits, allowZero: true)
        guard !arguments.reservationId.isEmpty, arguments.reservationId.utf8.count <= 100 else {
            throw GraphQLClientError("reservationId must be 1 to 100 characters.")
        }
        let attribution = try Self.attribution(context, idempotencyKey: arguments.idempotencyKey)
        try await write { tx in
            _ = try tx.setReservation(
                organisationID: arguments.organisationId, reservationID: arguments.reservationId, credits: credits,
                maxPriority: priority, by: attribution)
        }
        return try await organisation(context: context, arguments: .init(organisationId: arguments.organisationId))
    }

    /// Admin: replaces the low-balance thresholds; returns the organisation as it now is.
    public func setLowBalanceThresholds(context: GraphQLRequestContext, arguments: ThresholdArguments) async throws
        -> OrganisationView
    {
        guard context.principal.isAdmin else { throw GraphQLClientError("This operation needs a platform-admin key.", code: .forbidden) }
        let credits = try arguments.lowBalanceCredits.map { try Self.credits($0, allowZero: true) }
        guard (arguments.lowBalancePercent.map { (0...100).contains($0) } ?? true),
            (arguments.runwayDays.map { (0...3650).contains($0) } ?? true)
        else { throw GraphQLClientError("lowBalancePercent must be 0 to 100 and runwayDays 0 to 3650.") }
        let thresholds = Thresholds(
            lowBalanceCredits: credits, lowBalancePercent: arguments.lowBalancePercent,
            runwayDays: arguments.runwayDays)
        let attribution = try Self.attribution(context, idempotencyKey: arguments.idempotencyKey)
        try await write { tx in
            _ = try tx.setThresholds(organisationID: arguments.organisationId, thresholds: thresholds, by: attribution)
        }
        return try await organisation(context: context, arguments: .init(organisationId: arguments.organisationId))
    }

    private func write(_ body: @escaping @Sendable (LedgerTransaction) throws -> Void) async throws {
        do {
            try await ledger.write { tx in try body(tx) }
        } catch PostingRejection.organisationNotFound {
            throw Self.notFound
        } catch let rejection as PostingRejection {
            throw GraphQLClientError(rejection.description)
        } catch ConfigurationChangeRejection.idempotencyKeyReusedForAnotherChange {
            throw GraphQLClientError("idempotencyKey was already used for another change.", code: .idempotencyConflict)
        }
    }

    /// Who the audit trail names for a live change: the caller's key, with the mutation's idempotency key.
    static func attribution(_ context: GraphQLRequestContext, idempotencyKey: String) throws
        -> ConfigurationChangeAttribution
    {
        guard (1...200).contains(idempotencyKey.utf8.count) else {
            throw GraphQLClientError("idempotencyKey must be 1 to 200 characters.")
        }
        return ConfigurationChangeAttribution(actor: "key:\(context.keyID)", idempotencyKey: idempotencyKey)
    }

    public func organisation(context: GraphQLRequestContext, arguments: OrganisationArguments) async throws
        -> OrganisationView
    {
        let organisationID = try authorised(context, arguments.organisationId)
        return try await ledger.read { reader in
            guard let organisation = try reader.organisation(organisationID) else { throw Self.notFound }
            return OrganisationView(
                id: organisation.id, name: organisation.name, locale: organisation.locale,
                currency: organisation.currency.code, timeZone: organisation.timeZone, planId: organisation.planID,
                overdraftLimit: organisation.overdraftLimit.description,
                lowBalanceCredits: organisation.thresholds.lowBalanceCredits?.description,
                lowBalancePercent: organisation.thresholds.lowBalancePercent,
                runwayDays: organisation.thresholds.runwayDays,
                reservations: organisation.reservations.map {
                    ReservationView(id: $0.id, credits: $0.credits.description, maxPriority: $0.maxPriority.rank)
                },
                changes: ConfigurationChangesSource(ledger: ledger, organisationID: organisationID))
        }
    }

    /// Deductions in `[from, to)` grouped by team, investigation, operation or day (in the organisation's
    /// time zone), with their money cost from the grants they drew on (overdraft included once a grant settled it).
    public func usage(context: GraphQLRequestContext, arguments: UsageArguments) async throws -> [UsageRow] {
        let organisationID = try authorised(context, arguments.organisationId)
        let from = try Self.instant(arguments.from, name: "from")
        let to = try Self.instant(arguments.to, name: "to")
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
                    key: group.key, credits: group.credits.description, moneyMinorUnits: String(group.money.minorUnits),
                    currency: currency.code, deductions: Int(group.eventCount))
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
    public func allocateCredits(context: GraphQLRequestContext, arguments: PostingArguments) async throws
        -> TransactionView
    {
        try await post(context, arguments, kind: .allocation)
    }

    /// Admin: grants a top-up, optionally with the price paid (its cost basis).
    public func topUpCredits(context: GraphQLRequestContext, arguments: PostingArguments) async throws
        -> TransactionView
    {
        try await post(context, arguments, kind: .topUp)
    }

    /// Admin: corrects a balance; positive credits grant, negative credits draw down. A memo is required.
    public func adjustCredits(context: GraphQLRequestContext, arguments: PostingArguments) async throws
        -> TransactionView
    {
        try await post(context, arguments, kind: .adjustment)
    }

    /// Posts through the Ledger's `postAdmin`, the rule `credits ledger allocate|top-up|adjust` shares:
    /// a retry with the same key, organisation, kind and amount returns the earlier transfer.
    private func post(
        _ context: GraphQLRequestContext, _ arguments: PostingArguments, kind: AdminPostingRequest.Kind
    ) async throws -> TransactionView {
        let organisationID = try admin(context, arguments)
        let minor = try arguments.priceMinorUnits.map { text in
            guard let value = Int64(text), value >= 0 else {
                throw GraphQLClientError("priceMinorUnits must be a whole number of minor units.")
            }
            return value
        }
        let request = AdminPostingRequest(
            kind: kind, idempotencyKey: arguments.idempotencyKey, organisationID: organisationID,
            credits: try Self.credits(arguments.credits), price: minor.map(AdminPostingRequest.Price.minorUnits),
            effectiveAt: now(), memo: arguments.memo)
        do {
            let posting = try await ledger.write { tx in try tx.postAdmin(request) }
            return Self.view(posting.transfer, organisationID: organisationID)
        } catch PostingRejection.organisationNotFound {
            throw Self.notFound
        } catch let rejection as PostingRejection where rejection.kind == .idempotencyKeyReusedWithDifferentContent {
            throw GraphQLClientError(rejection.description, code: .idempotencyConflict)
        } catch let rejection as PostingRejection {
            throw GraphQLClientError(rejection.description)
        } catch let rejection as AdminPostingRejection {
            throw GraphQLClientError(rejection.description)
        }
    }

    private func admin(_ context: GraphQLRequestContext, _ arguments: PostingArguments) throws -> String {
        guard context.principal.isAdmin else {
            throw GraphQLClientError("This operation needs a platform-admin key.", code: .forbidden)
        }
        return arguments.organisationId
    }

    static func credits(_ text: String, allowZero: Bool = false) throws -> Credits {
        switch Credits.parse(text) {
        case .success(let value) where value.isNegative && allowZero:
            throw GraphQLClientError("credits must not be negative.")
        case .success(let value) where value != .zero || allowZero: return value
        case .success: throw GraphQLClientError("credits must not be zero.")
        case .failure(let error): throw GraphQLClientError("credits \(text): \(error)")
        }
    }
}
