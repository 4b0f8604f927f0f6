import Foundation

/// The audit trail of live configuration changes: who changed an organisation's reservations or
/// low-balance thresholds, when, and from what to what.
///
/// Method: every change writes one row to `configuration_changes` in the same transaction as the change
/// itself, so the trail can never miss a change nor record one that did not commit. Rows are
/// append-only (triggers refuse UPDATE and DELETE, as for transfers). A change made with an idempotency
/// key records it; the same key again finds that row and changes nothing, so a retried mutation writes
/// neither the value nor a second row, and the key reused for a different change is refused.
public struct ConfigurationChangeRecord: Sendable, Equatable {
    /// What was changed.
    public enum Subject: String, Sendable, Equatable {
        case reservation
        case thresholds
        case budget
    }

    public let id: Int64
    public let organisationID: String
    /// The transaction's `now`.
    public let changedAt: Instant
    /// Who: `key:<key id>` for an API key, `config:<digest prefix>` for `credits init`.
    public let actor: String
    public let idempotencyKey: String?
    public let subject: Subject
    /// The reservation changed; nil for thresholds.
    public let reservationID: String?
    /// The budget changed (`team:alpha`); nil unless the subject is a budget.
    public var budgetKey: String? = nil
    /// The value before; nil when the reservation did not exist.
    public let oldValue: ConfigurationValue?
    /// The value after; nil when the reservation was removed.
    public let newValue: ConfigurationValue?
}

/// One audited value: a reservation's terms or an organisation's thresholds.
public enum ConfigurationValue: Sendable, Equatable {
    case reservation(credits: Credits, maxPriority: Priority)
    case thresholds(Thresholds)
    case budget(Budget)
}

/// Who makes a configuration change, and under which idempotency key (nil: not idempotent by key).
public struct ConfigurationChangeAttribution: Sendable, Equatable {
    public let actor: String
    public let idempotencyKey: String?

    public init(actor: String, idempotencyKey: String?) {
        precondition(!actor.isEmpty, "a change has an actor")
        self.actor = actor
        self.idempotencyKey = idempotencyKey
    }
}

/// What a live configuration change did.
public enum ConfigurationChangeOutcome: Sendable, Equatable {
    /// Applied and recorded.
    case changed
    /// The idempotency key was already recorded for this very change: nothing was written again.
    case replayed
}

/// The term of a budget a live change got wrong.
public enum BudgetTerm: String, Sendable, Equatable {
    case limit, alertPercents, financialYearStartMonth, range
}

/// A configuration change that cannot be made.
public enum ConfigurationChangeRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The idempotency key was recorded for a different change (another organisation, subject or value).
    case idempotencyKeyReusedForAnotherChange(key: String, existingChangeID: Int64)
    /// The budget's team or investigation is not configured for the organisation.
    case budgetScopeNotFound(String)
    /// A child budget's limit would exceed its parent's for an overlapping period (or a parent's fall
    /// below a child's): the same rule as `organisations.yaml`.
    case budgetExceedsParent(child: String, parent: String)
    /// A budget's terms are not valid: which term, and why.
    case budgetInvalid(BudgetTerm, String)

    public var description: String {
        switch self {
        case .idempotencyKeyReusedForAnotherChange(let key, let existing):
            "idempotency key \(key) was already used for another change (change \(existing))"
        case .budgetScopeNotFound(let key): "no \(key) in this organisation"
        case .budgetExceedsParent(let child, let parent): "the \(child) budget would exceed its parent, the \(parent) budget"
        case .budgetInvalid(_, let problem): problem
        }
    }
}

extension LedgerTransaction {
    /// Sets (or, with zero credits, removes) one reservation of an organisation, live, and records the
    /// change with its old and new value. The next `credits init` with a changed configuration replaces
    /// reservations with the configured ones (and records that too).
    public func setReservation(
        organisationID: String, reservationID: String, credits: Credits, maxPriority: Priority,
        by attribution: ConfigurationChangeAttribution
    ) throws -> ConfigurationChangeOutcome {
        // Before anything is read: a replica changing the organisation, or posting for it, waits.
        try lockOrganisation(organisationID)
        guard try reader.organisationExists(organisationID) else {
            throw PostingRejection.organisationNotFound(organisationID)
        }
        guard !credits.isNegative else { throw PostingRejection.amountMustBePositive }
        let new: ConfigurationValue? = credits == .zero ? nil : .reservation(credits: credits, maxPriority: maxPriority)
        if try isReplay(attribution, organisationID, .reservation, reservationID, new) { return .replayed }
        let old = try reader.reservations(of: organisationID).first { $0.id == reservationID }
        postingState.forget(organisationID)
        if credits == .zero {
            try sql.execute(
                "DELETE FROM reservations WHERE organisation_id = ? AND id = ?",
                [.text(organisationID), .text(reservationID)])
        } else {
            try sql.execute(
                """
                INSERT INTO reservations (organisation_id, id, credits, max_priority) VALUES (?, ?, ?, ?)
                ON CONFLICT (organisation_id, id) DO UPDATE SET credits = excluded.credits,
                    max_priority = excluded.max_priority
                """,
                [.text(organisationID), .text(reservationID), .integer(credits.microcredits),
                 .integer(Int64(maxPriority.rank))])
        }
        try recordChange(
            organisationID: organisationID, attribution: attribution, subject: .reservation,
            reservationID: reservationID, old: old.map(ConfigurationValue.init), new: new)
        return .changed
    }

    /// Replaces an organisation's low-balance thresholds, live, and records the change (same caveat and
    /// idempotency as `setReservation`).
    public func setThresholds(
        organisationID: String, thresholds: Thresholds, by attribution: ConfigurationChangeAttribution
    ) throws -> ConfigurationChangeOutcome {
        try lockOrganisation(organisationID)
        guard let json = try sql.record("SELECT settings FROM organisations WHERE id = ?", [.text(organisationID)])?.text(0)
        else { throw PostingRejection.organisationNotFound(organisationID) }
        let new = ConfigurationValue.thresholds(thresholds)
        if try isReplay(attribution, organisationID, .thresholds, nil, new) { return .replayed }
        var organisation = try ConfigurationCodec.decode(Organisation.self, json)
        let old = organisation.thresholds
        organisation.thresholds = thresholds
        try sql.execute(
            "UPDATE organisations SET settings = ? WHERE id = ?", [.text(try ConfigurationCodec.json(organisation)), .text(organisationID)])
        try recordChange(
            organisationID: organisationID, attribution: attribution, subject: .thresholds, reservationID: nil,
            old: .thresholds(old), new: new)
        return .changed
    }

    /// True when the attribution's key already recorded exactly this change; throws when it recorded
    /// another one.
    private func isReplay(
        _ attribution: ConfigurationChangeAttribution, _ organisationID: String,
        _ subject: ConfigurationChangeRecord.Subject, _ reservationID: String?, _ new: ConfigurationValue?,
        budgetKey: String? = nil
    ) throws -> Bool {
        guard let key = attribution.idempotencyKey,
            let existing = try reader.configurationChange(idempotencyKey: key)
        else { return false }
        guard existing.organisationID == organisationID, existing.subject == subject,
            existing.reservationID == reservationID, existing.budgetKey == budgetKey, existing.newValue == new
        else {
            throw ConfigurationChangeRejection.idempotencyKeyReusedForAnotherChange(
                key: key, existingChangeID: existing.id)
        }
        return true
    }

    private func recordChange(
        organisationID: String, attribution: ConfigurationChangeAttribution,
        subject: ConfigurationChangeRecord.Subject, reservationID: String?, old: ConfigurationValue?,
        new: ConfigurationValue?, budgetKey: String? = nil
    ) throws {
        try ConfigurationChangeLog.record(
            organisationID: organisationID, attribution: attribution, subject: subject, reservationID: reservationID,
            old: old, new: new, budgetKey: budgetKey, now: now, on: sql)
    }

    /// Sets (or, with `budget` nil, removes) the organisation's budget on one scope, live, checked
    /// as `organisations.yaml` checks budgets (the scope exists; no child above an overlapping
    /// parent), and records the change with its old and new terms. The next `credits init` with a
    /// changed configuration replaces budgets with the configured ones (and records that too).
    public func setBudget(
        organisationID: String, scope: SpendScope, budget: Budget?, by attribution: ConfigurationChangeAttribution
    ) throws -> ConfigurationChangeOutcome {
        try lockOrganisation(organisationID)
        guard let organisation = try reader.organisation(organisationID) else {
            throw PostingRejection.organisationNotFound(organisationID)
        }
        precondition(budget.map { $0.spendScope == scope } ?? true, "a budget is set on its own scope")
        let key = "\(scope.kind.rawValue):\(scope.id)"
        switch scope.kind {
        case .organisation:
            guard scope.id == organisationID else { throw ConfigurationChangeRejection.budgetScopeNotFound(key) }
        case .team:
            guard organisation.teams.contains(where: { $0.id == scope.id }) else {
                throw ConfigurationChangeRejection.budgetScopeNotFound(key)
            }
        case .investigation:
            guard organisation.investigations.contains(where: { $0.id == scope.id }) else {
                throw ConfigurationChangeRejection.budgetScopeNotFound(key)
            }
        }
        if let budget {
            guard budget.limit.isPositive, budget.limit <= Credits.transferMax else {
                throw ConfigurationChangeRejection.budgetInvalid(
                    .limit, "the limit must be positive and at most \(Credits.transferMax)")
            }
            guard budget.alertPercents.allSatisfy({ (1...1000).contains($0) }),
                  budget.alertPercents == budget.alertPercents.sorted(),
                  Set(budget.alertPercents).count == budget.alertPercents.count
            else {
                throw ConfigurationChangeRejection.budgetInvalid(
                    .alertPercents, "alert percentages must ascend, distinct, 1 to 1000")
            }
            switch budget.period {
            case .financialYear(let startMonth) where !(1...12).contains(startMonth):
                throw ConfigurationChangeRejection.budgetInvalid(
                    .financialYearStartMonth, "a financial year starts in month 1 to 12, not \(startMonth)")
            case .range(let start, let end) where end < start:
                throw ConfigurationChangeRejection.budgetInvalid(.range, "the range ends (\(end)) before it starts (\(start))")
            default:
                break
            }
        }
        let new: ConfigurationValue? = budget.map { .budget($0) }
        if try isReplay(attribution, organisationID, .budget, nil, new, budgetKey: key) { return .replayed }
        let existing = organisation.budgets ?? []
        let old = existing.first { $0.key == key }
        let after = existing.filter { $0.key != key } + (budget.map { [$0] } ?? [])
        let teamOf = { (id: String) in organisation.investigations.first { $0.id == id }?.teamID }
        if let (child, parent) = BudgetNesting.violation(in: after, teamOf: teamOf) {
            throw ConfigurationChangeRejection.budgetExceedsParent(child: child.key, parent: parent.key)
        }
        postingState.forget(organisationID)
        if let budget {
            try BudgetQueries.upsert(budget, of: organisationID, in: sql)
        } else {
            try sql.execute("DELETE FROM budgets WHERE organisation_id = ? AND budget_key = ?", [.text(organisationID), .text(key)])
        }
        try recordChange(
            organisationID: organisationID, attribution: attribution, subject: .budget, reservationID: nil,
            old: old.map { .budget($0) }, new: new, budgetKey: key)
        return .changed
    }
}

extension LedgerReader {
    /// An organisation's configuration changes, newest first, at most `limit`, before change `beforeID`.
    public func configurationChanges(
        of organisationID: String, beforeID: Int64? = nil, limit: Int
    ) throws -> [ConfigurationChangeRecord] {
        try ConfigurationChangeLog.changes(of: organisationID, beforeID: beforeID, limit: limit, on: sql)
    }

    /// An organisation's reservation changes recorded after `instant`, newest first (see
    /// `ConfigurationChangeLog.reservationChanges`).
    public func reservationChanges(of organisationID: String, after instant: Instant) throws
        -> [ConfigurationChangeRecord]
    {
        try ConfigurationChangeLog.reservationChanges(of: organisationID, after: instant, on: sql)
    }

    /// The change recorded under an idempotency key, if any.
    public func configurationChange(idempotencyKey: String) throws -> ConfigurationChangeRecord? {
        try ConfigurationChangeLog.change(idempotencyKey: idempotencyKey, on: sql)
    }
}

/// `configuration_changes`, written and read in portable SQL (either store).
enum ConfigurationChangeLog {
    static func record(
        organisationID: String, attribution: ConfigurationChangeAttribution,
        subject: ConfigurationChangeRecord.Subject, reservationID: String?, old: ConfigurationValue?,
        new: ConfigurationValue?, budgetKey: String? = nil, now: Instant, on sql: some SQLSession
    ) throws {
        precondition((subject == .reservation) == (reservationID != nil), "only reservations have an id")
        precondition((subject == .budget) == (budgetKey != nil), "only budgets have a budget key")
        try sql.execute(
            """
            INSERT INTO configuration_changes (organisation_id, changed_at, actor, idempotency_key, subject,
                reservation_id, old_value, new_value, budget_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(organisationID), .integer(now.millisecondsSinceEpoch), .text(attribution.actor),
             SQLValue(attribution.idempotencyKey), .text(subject.rawValue), SQLValue(reservationID),
             SQLValue(try old.map(ConfigurationValueCodec.json)), SQLValue(try new.map(ConfigurationValueCodec.json)),
             SQLValue(budgetKey)])
    }

    /// Records what `credits init` changes in an existing organisation's reservations and thresholds,
    /// one row per reservation added, changed or removed and one for the thresholds.
    static func recordConfigured(
        before: Organisation, after: Organisation, attribution: ConfigurationChangeAttribution, now: Instant,
        on sql: some SQLSession
    ) throws {
        precondition(before.id == after.id, "a change compares one organisation with itself")
        let old = Dictionary(uniqueKeysWithValues: before.reservations.map { ($0.id, $0) })
        let new = Dictionary(uniqueKeysWithValues: after.reservations.map { ($0.id, $0) })
        for id in Set(old.keys).union(new.keys).sorted() where old[id] != new[id] {
            try record(
                organisationID: after.id, attribution: attribution, subject: .reservation, reservationID: id,
                old: old[id].map(ConfigurationValue.init), new: new[id].map(ConfigurationValue.init), now: now, on: sql)
        }
        let oldBudgets = Dictionary(uniqueKeysWithValues: (before.budgets ?? []).map { ($0.key, $0) })
        let newBudgets = Dictionary(uniqueKeysWithValues: (after.budgets ?? []).map { ($0.key, $0) })
        for key in Set(oldBudgets.keys).union(newBudgets.keys).sorted() where oldBudgets[key] != newBudgets[key] {
            try record(
                organisationID: after.id, attribution: attribution, subject: .budget, reservationID: nil,
                old: oldBudgets[key].map { .budget($0) }, new: newBudgets[key].map { .budget($0) }, budgetKey: key,
                now: now, on: sql)
        }
        if before.thresholds != after.thresholds {
            try record(
                organisationID: after.id, attribution: attribution, subject: .thresholds, reservationID: nil,
                old: .thresholds(before.thresholds), new: .thresholds(after.thresholds), now: now, on: sql)
        }
    }

    /// An organisation's configuration changes, newest first, at most `limit`, before change `beforeID`.
    static func changes(
        of organisationID: String, beforeID: Int64?, limit: Int, on sql: some SQLSession
    ) throws -> [ConfigurationChangeRecord] {
        precondition(limit > 0, "a page holds at least one change")
        return try sql.records(
            "\(select) WHERE organisation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            [.text(organisationID), .integer(beforeID ?? Int64.max), SQLValue(limit)]
        ).map(change)
    }

    /// An organisation's reservation changes recorded after `instant`, newest first: what to undo, in
    /// order, to see its reservations as they stood then (`balance(of:asOf:)`).
    static func reservationChanges(of organisationID: String, after instant: Instant, on sql: some SQLSession) throws
        -> [ConfigurationChangeRecord]
    {
        try sql.records(
            "\(select) WHERE organisation_id = ? AND subject = 'reservation' AND changed_at > ? ORDER BY id DESC",
            [.text(organisationID), .integer(instant.millisecondsSinceEpoch)]
        ).map(change)
    }

    /// The change recorded under an idempotency key, if any.
    static func change(idempotencyKey: String, on sql: some SQLSession) throws -> ConfigurationChangeRecord? {
        try sql.records("\(select) WHERE idempotency_key = ?", [.text(idempotencyKey)]).first.map(change)
    }

    private static let select = """
        SELECT id, organisation_id, changed_at, actor, idempotency_key, subject, reservation_id, budget_key,
            old_value, new_value
        FROM configuration_changes
        """

    private static func change(_ row: SQLRecord) throws -> ConfigurationChangeRecord {
        let subject = try ConfigurationChangeRecord.Subject(
            stored: row.text(5), table: "configuration_changes", column: "subject")
        return ConfigurationChangeRecord(
            id: row.int64(0), organisationID: row.text(1),
            changedAt: Instant(millisecondsSinceEpoch: row.int64(2)), actor: row.text(3),
            idempotencyKey: row.textOrNil(4), subject: subject, reservationID: row.textOrNil(6),
            budgetKey: row.textOrNil(7),
            oldValue: try row.textOrNil(8).map { try ConfigurationValueCodec.value($0, subject) },
            newValue: try row.textOrNil(9).map { try ConfigurationValueCodec.value($0, subject) })
    }
}

extension ConfigurationValue {
    init(_ reservation: Reservation) {
        self = .reservation(credits: reservation.credits, maxPriority: reservation.maxPriority)
    }
}

/// The stored JSON of an audited value: keys sorted, credits as exact decimal text, absent thresholds
/// as `null`, so a reader of the raw table needs nothing but this comment.
/// Reservation: `{"credits":"120","max_priority":2}`. Thresholds:
/// `{"low_balance_credits":"25","low_balance_percent":null,"runway_days":7}`.
enum ConfigurationValueCodec {
    private struct ReservationJSON: Codable {
        let credits: Credits
        let max_priority: Int
    }

    private struct ThresholdsJSON: Codable {
        let low_balance_credits: Credits?
        let low_balance_percent: Int?
        let runway_days: Int?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(low_balance_credits, forKey: .low_balance_credits)
            try container.encode(low_balance_percent, forKey: .low_balance_percent)
            try container.encode(runway_days, forKey: .runway_days)
        }
    }

    static func json(_ value: ConfigurationValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = switch value {
        case .reservation(let credits, let priority):
            try encoder.encode(ReservationJSON(credits: credits, max_priority: priority.rank))
        case .budget(let budget):
            try encoder.encode(budget)
        case .thresholds(let thresholds):
            try encoder.encode(ThresholdsJSON(
                low_balance_credits: thresholds.lowBalanceCredits, low_balance_percent: thresholds.lowBalancePercent,
                runway_days: thresholds.runwayDays))
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func value(_ json: String, _ subject: ConfigurationChangeRecord.Subject) throws -> ConfigurationValue {
        let data = Data(json.utf8)
        switch subject {
        case .reservation:
            let stored = try JSONDecoder().decode(ReservationJSON.self, from: data)
            guard let priority = Priority(rank: stored.max_priority) else {
                preconditionFailure("a stored reservation has a priority of 1 to 4")
            }
            return .reservation(credits: stored.credits, maxPriority: priority)
        case .budget:
            return .budget(try JSONDecoder().decode(Budget.self, from: data))
        case .thresholds:
            let stored = try JSONDecoder().decode(ThresholdsJSON.self, from: data)
            return .thresholds(Thresholds(
                lowBalanceCredits: stored.low_balance_credits, lowBalancePercent: stored.low_balance_percent,
                runwayDays: stored.runway_days))
        }
    }
}
