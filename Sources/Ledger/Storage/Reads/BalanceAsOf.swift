import Foundation
import GRDB

extension LedgerReader {
    /// An organisation's balance as it stood at `instant`, posting nothing (`ledger balance --as-of`,
    /// GraphQL `creditBalance(asOf:)`); see `BalanceQueries.balance(of:asOf:on:)`.
    public func balance(of organisationID: String, asOf instant: Instant) throws -> Balance {
        try BalanceQueries.balance(of: organisationID, asOf: instant, on: sql)
    }
}

/// Balances, now and as of a past instant, in portable SQL (either store).
enum BalanceQueries {
    /// The organisation's balance and reservations, by one statement (`PointQueries.balanceSQL`, the
    /// live service's own). Throws `PostingRejection.organisationNotFound` for an unknown organisation.
    static func balance(of organisationID: String, on sql: some SQLSession) throws -> Balance {
        let rows = try sql.records(
            PointQueries.balanceSQL,
            [.text(organisationID), .text(AccountID.available(organisationID: organisationID).rawValue)])
        return try PointQueries.balance(organisationID, rows: rows.map { PointQueries.BalanceRow($0) })
    }

    /// Every organisation's balance, by organisation id.
    static func balances(on sql: some SQLSession) throws -> [Balance] {
        try sql.strings("SELECT id FROM organisations ORDER BY id COLLATE BINARY").map { try balance(of: $0, on: sql) }
    }

    /// An organisation's balance as it stood at `instant`, posting nothing.
    ///
    /// - `available`: every transfer effective at or before `instant`, credited less debited. Transfers
    ///   are append-only and a sum does not depend on the order they were posted in, so a deduction
    ///   posted later for earlier usage (a late event) counts at its effective time, as a replay of the
    ///   ledger up to that instant would count it.
    /// - `reservations`: the organisation's reservations as configured then: today's, with every
    ///   reservation change recorded after `instant` undone, newest first (`configuration_changes`).
    /// - currency and overdraft limit: as configured now (neither is changed live).
    ///
    /// Cost: one indexed range sum over the organisation's transfers up to `instant`
    /// (`transfers_by_organisation`), and its reservation changes since.
    static func balance(of organisationID: String, asOf instant: Instant, on sql: some SQLSession) throws -> Balance {
        let now = try balance(of: organisationID, on: sql)
        let account = AccountID.available(organisationID: organisationID).rawValue
        guard let row = try sql.record(
            """
            SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = ?1 THEN amount ELSE 0 END), 0) AS BIGINT),
                   CAST(COALESCE(SUM(CASE WHEN debit_account = ?1 THEN amount ELSE 0 END), 0) AS BIGINT)
            FROM transfers WHERE organisation_id = ?2 AND effective_at <= ?3
            """,
            [.text(account), .text(organisationID), .integer(instant.millisecondsSinceEpoch)])
        else { preconditionFailure("an aggregate answers one row") }
        let available = try Credits(microcredits: row.int64(0)).subtracting(Credits(microcredits: row.int64(1)))
        var reservations = Dictionary(uniqueKeysWithValues: now.reservations.map { ($0.id, $0) })
        for change in try ConfigurationChangeLog.reservationChanges(of: organisationID, after: instant, on: sql) {
            guard let id = change.reservationID else { continue }
            switch change.oldValue {
            case .reservation(let credits, let maxPriority)?:
                reservations[id] = Reservation(id: id, credits: credits, maxPriority: maxPriority)
            case nil, .thresholds?, .budget?:
                reservations[id] = nil
            }
        }
        return Balance(
            organisationID: organisationID, currency: now.currency, available: available,
            reservations: reservations.values.sorted { $0.id < $1.id }, overdraftLimit: now.overdraftLimit)
    }
}

/// A moment a user names for one organisation: an exact instant, or the start or end of a calendar day in
/// the organisation's own time zone (what "the balance at the end of 30 November" or "from 1 November"
/// means to its finance team).
public enum BalanceMoment: Sendable, Hashable {
    case instant(Instant)
    /// The first millisecond of the day.
    case startOf(LocalDate)
    /// The last millisecond of the day.
    case endOf(LocalDate)

    /// The instant this moment is for `organisationID`.
    public func instant(for organisationID: String, _ reader: some LedgerReads) throws -> Instant {
        switch self {
        case .instant(let instant):
            return instant
        case .startOf(let date), .endOf(let date):
            guard let organisation = try reader.organisation(organisationID) else {
                throw PostingRejection.organisationNotFound(organisationID)
            }
            // The loader refuses an unknown time zone, so a stored one always resolves.
            guard let zone = TimeZone(identifier: organisation.timeZone) else {
                preconditionFailure("organisation \(organisationID) has a time zone the loader should have refused")
            }
            if case .startOf = self { return date.startInstant(in: zone) }
            return date.lastInstant(in: zone)
        }
    }
}
