import Foundation
import GRDB

extension LedgerReader {
    /// An organisation's balance as it stood at `instant`, posting nothing (`ledger balance --as-of`,
    /// GraphQL `creditBalance(asOf:)`).
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
    public func balance(of organisationID: String, asOf instant: Instant) throws -> Balance {
        let now = try balance(of: organisationID)
        let account = AccountID.available(organisationID: organisationID).rawValue
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(CASE WHEN credit_account = ?1 THEN amount ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN debit_account = ?1 THEN amount ELSE 0 END), 0)
                FROM transfers WHERE organisation_id = ?2 AND effective_at <= ?3
                """,
            arguments: [account, organisationID, instant.millisecondsSinceEpoch])
        guard let row else { preconditionFailure("an aggregate answers one row") }
        let available = try Credits(microcredits: row[0]).subtracting(Credits(microcredits: row[1]))
        var reservations = Dictionary(uniqueKeysWithValues: now.reservations.map { ($0.id, $0) })
        for change in try reservationChanges(of: organisationID, after: instant) {
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
    public func instant(for organisationID: String, _ reader: LedgerReader) throws -> Instant {
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
