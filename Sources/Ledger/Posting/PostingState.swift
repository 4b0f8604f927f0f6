import GRDB

/// What spending needs to know about an organisation (its balance, reservations, overdraft limit
/// and the grants it can burn, in burn-down order), read from the database once per transaction
/// and kept current by the spends themselves.
///
/// Why: a batch run posts hundreds of thousands of deductions in one transaction, and reading the
/// balance, the reservations and every spendable grant back from SQLite for each of them was most
/// of the cost of posting. The database stays the truth: every posting still writes its rows and
/// balance changes immediately (so any SQL read in the same transaction sees them), and this
/// state only saves the reads. A spend updates the state it used in place; every other change to
/// an organisation's grants, balance or reservations forgets the organisation's state, so the
/// next spend reads it afresh. A rolled-back dry run forgets everything.
final class PostingState {
    private var organisations: [String: OrganisationPostingState] = [:]

    /// The organisation's state, read from the database if this transaction has not yet.
    func state(of organisationID: String, in db: Database) throws -> OrganisationPostingState {
        if let state = organisations[organisationID] { return state }
        let state = try OrganisationPostingState.read(organisationID, from: db)
        organisations[organisationID] = state
        return state
    }

    func update(_ state: OrganisationPostingState) {
        organisations[state.organisationID] = state
    }

    func forget(_ organisationID: String) {
        organisations[organisationID] = nil
    }

    func forgetAll() {
        organisations.removeAll()
    }
}

/// One organisation's spending facts, as of the last posting in this transaction.
struct OrganisationPostingState {
    let organisationID: String
    let currency: Currency
    let overdraftLimit: Credits
    let reservations: [Reservation]
    private(set) var available: Credits
    /// Grants with credits left, in burn-down order (expired ones included: a spend skips grants
    /// expired at its own effective time, which the state cannot know in advance).
    private(set) var grants: [Grant]

    var balance: Balance {
        Balance(organisationID: organisationID, currency: currency, available: available,
                reservations: reservations, overdraftLimit: overdraftLimit)
    }

    /// Records a spend of `amount` that drew `draws` from the grants at the given positions.
    mutating func spent(_ amount: Credits, draws: [(index: Int, credits: Credits)]) throws {
        available = try available.subtracting(amount)
        for draw in draws { grants[draw.index] = try grants[draw.index].drawn(draw.credits) }
        grants.removeAll { !$0.remaining.isPositive }
    }

    static func read(_ organisationID: String, from db: Database) throws -> OrganisationPostingState {
        guard let row = try Row.fetchOne(
            db,
            cached: """
                SELECT o.currency, o.overdraft_limit, a.credits_posted - a.debits_posted
                FROM organisations o JOIN accounts a ON a.organisation_id = o.id
                WHERE o.id = ?
                """,
            arguments: [organisationID])
        else { throw PostingRejection.organisationNotFound(organisationID) }
        guard let currency = Currency(code: row[0]) else {
            preconditionFailure("organisation \(organisationID) has a currency the schema should have refused")
        }
        let reader = LedgerReader(db: db)
        return OrganisationPostingState(
            organisationID: organisationID, currency: currency, overdraftLimit: Credits(microcredits: row[1]),
            reservations: try reader.reservations(of: organisationID), available: Credits(microcredits: row[2]),
            grants: try reader.grantsWithCreditsLeft(of: organisationID))
    }
}

extension Grant {
    /// Whether a spend effective at `instant` may draw from this grant: it has not expired by then.
    func isSpendable(at instant: Instant) -> Bool {
        expiresAt.map { $0 > instant } ?? true
    }

    /// This grant after `credits` more were drawn from it.
    func drawn(_ credits: Credits) throws -> Grant {
        Grant(
            id: id, organisationID: organisationID, source: source, transferID: transferID, credits: self.credits,
            remaining: try remaining.subtracting(credits), priority: priority, expiresAt: expiresAt,
            grantedAt: grantedAt, cost: cost)
    }
}
