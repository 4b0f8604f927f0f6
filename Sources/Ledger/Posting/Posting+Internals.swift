import Crypto
import Foundation

extension LedgerTransaction {
    struct OrganisationFacts {
        let currency: Currency
        let overdraftLimit: Credits
    }

    /// Locks the organisation for this transaction (`PostingState.lock`) and reads what every grant needs,
    /// once per transaction (a night's top-ups ask it for every order).
    func organisationFacts(_ id: String) throws -> OrganisationFacts {
        try lockOrganisation(id)
        if let known = postingState.facts[id] { return known }
        guard let (code, limit) = try session.first(
            "SELECT currency, overdraft_limit FROM organisations WHERE id = ?", bind: { $0.add(id) },
            read: { ($0.text(0), $0.int64(1)) })
        else { throw PostingRejection.organisationNotFound(id) }
        guard let currency = Currency(code: code) else {
            preconditionFailure("organisation \(id) has a currency the schema should have refused")
        }
        let facts = OrganisationFacts(currency: currency, overdraftLimit: Credits(microcredits: limit))
        postingState.facts[id] = facts
        return facts
    }

    /// The size rule every transfer obeys: at most `Credits.transferMax`, so no amount the ledger
    /// holds comes near Int64's edge and sums of them stay exact.
    static func checkTransferLimit(_ amount: Credits) throws {
        guard amount <= Credits.transferMax else {
            throw PostingRejection.amountAboveTransferLimit(requested: amount, limit: Credits.transferMax)
        }
    }

    /// The idempotency rule: the same key with the same content is the earlier posting; the same
    /// key with different content is refused.
    /// Reads only what postings append (transfers, draws), so deferred balances stay deferred.
    func existingTransfer(key: String, hash: String) throws -> Posting? {
        // Asked before every grant and spend the ledger posts; almost always a miss, probed without GRDB rows.
        try postingState.writeAppends(session)
        guard let (id, existingHash) = try session.first(
            "SELECT id, content_hash FROM transfers WHERE idempotency_key = ?", bind: { $0.add(key) },
            read: { ($0.int64(0), $0.text(1)) })
        else { return nil }
        try Self.checkSameContent(key: key, existingID: id, existingHash: existingHash, hash: hash)
        let transfer = try reader.transfer(id: id)!
        let uncovered = try session.integer(
            "SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM grant_draws WHERE transfer_id = ? AND grant_id IS NULL",
            [.integer(id)]) ?? 0
        return Posting(status: .exists, transfer: transfer, intoReserve: .zero, overdraft: Credits(microcredits: uncovered))
    }

    /// Inserts one transfer and defers both account balance changes (see `PostingState`). Asserts
    /// double entry before writing. Returns the transfer as stored, built from what was written
    /// rather than read back; nil, writing nothing, when a transfer with the same idempotency key
    /// exists (then `existingTransfer` says what it is). Every other constraint of the schema
    /// (one deduction per cost event, ...) still fails the insert.
    func insertTransfer(
        key: String, hash: String, kind: TransferKind, debit: AccountID, credit: AccountID, amount: Credits,
        organisationID: String, money: Money, effectiveAt: Instant, references: TransferReferences
    ) throws -> Transfer? {
        let row = try transferRow(
            key: key, hash: hash, kind: kind, debit: debit, credit: credit, amount: amount, organisationID: organisationID,
            money: money, effectiveAt: effectiveAt, references: references)
        // Reads neither grants nor (beyond the running balance's first read) accounts, so deferred
        // balance changes may wait; rows appended before it are written first (see `PostingState`).
        try postingState.writeAppends(session)
        let inserted = try session.first(TransferRow.insertUnlessKeyTaken, bind: row.bind, read: { $0.int64(0) })
        guard inserted != nil else { return nil }
        return try posted(row)
    }

    /// Appends one transfer whose key no transfer holds (the caller knows, e.g. under `lockPostings`):
    /// as `insertTransfer`, but written with others, many to a statement, before anything else reads or
    /// writes the ledger's postings (`PostingState.writeAppends`). A key that was taken after all fails
    /// that statement, and with it the transaction.
    func appendTransfer(
        key: String, hash: String, kind: TransferKind, debit: AccountID, credit: AccountID, amount: Credits,
        organisationID: String, money: Money, effectiveAt: Instant, references: TransferReferences
    ) throws -> Transfer {
        let row = try transferRow(
            key: key, hash: hash, kind: kind, debit: debit, credit: credit, amount: amount, organisationID: organisationID,
            money: money, effectiveAt: effectiveAt, references: references)
        postingState.append(row)
        return try posted(row)
    }

    /// A transfer's row, checked for double entry, numbered, with its running balance.
    private func transferRow(
        key: String, hash: String, kind: TransferKind, debit: AccountID, credit: AccountID, amount: Credits,
        organisationID: String, money: Money, effectiveAt: Instant, references: TransferReferences
    ) throws -> TransferRow {
        precondition(debit != credit, "a transfer must move credits between two different accounts")
        precondition(amount.isPositive, "a transfer amount must be positive")
        precondition(amount <= Credits.transferMax, "a transfer amount is checked against the limit first")
        precondition(money.minorUnits >= 0, "a transfer's money value is never negative")
        guard let actorText else { throw PostingRejection.actorRequired }
        let account = AccountID.available(organisationID: organisationID)
        precondition(credit == account || debit == account, "every transfer moves its organisation's account")
        let balanceAfter = try postingState.balance(
            of: account, organisationID: organisationID, after: credit == account ? amount.microcredits : -amount.microcredits,
            in: session)
        return TransferRow(
            id: try postingState.nextID(of: .transfers, in: session), key: key, hash: hash, kind: kind, debit: debit,
            credit: credit, amount: amount, organisationID: organisationID, money: money, effectiveAt: effectiveAt,
            recordedAt: now, references: references, actor: actorText, balanceAfter: balanceAfter)
    }

    /// Counts a transfer row just written (or appended) in: its id taken, its running balance and both
    /// account balance changes deferred.
    private func posted(_ row: TransferRow) throws -> Transfer {
        postingState.added(to: .transfers)
        let account = AccountID.available(organisationID: row.organisationID)
        postingState.posted(balanceAfter: row.balanceAfter, to: account)
        try postingState.deferPosting(row.amount, debit: row.debit, credit: row.credit)
        return Transfer(
            id: row.id, idempotencyKey: row.key, kind: row.kind, organisationID: row.organisationID,
            debitAccount: row.debit.rawValue, creditAccount: row.credit.rawValue, amount: row.amount, money: row.money,
            effectiveAt: row.effectiveAt, recordedAt: row.recordedAt, references: row.references, actor: actor,
            balanceAfter: Credits(microcredits: row.balanceAfter), grantID: nil)
    }

    /// Records one leg of an outflow and burns the grant down by it (deferred, see `PostingState`).
    func recordDraw(transferID: Int64, organisationID: String, grantID: Int64?, credits: Credits, cost: Money) throws {
        // Reads and writes neither accounts nor grants, so deferred balance changes may wait; the
        // transfer and grant it names may be appended rows, written first.
        try postingState.writeAppends(session)
        let id = try postingState.nextID(of: .grantDraws, in: session)
        try session.run(
            "INSERT INTO grant_draws (id, transfer_id, organisation_id, grant_id, credits, cost_minor) VALUES (?, ?, ?, ?, ?, ?)"
        ) { row in
            row.add(id)
            row.add(transferID)
            row.add(organisationID)
            row.add(grantID)
            row.add(credits.microcredits)
            row.add(cost.minorUnits)
        }
        postingState.added(to: .grantDraws)
        guard let grantID else {
            if credits.isPositive { postingState.mayOwe(organisationID) }
            return
        }
        precondition(credits.isPositive, "a draw from a grant takes a positive amount")
        try postingState.deferDraw(credits, fromGrant: grantID)
    }
}

/// The exact money cost of credits drawn from a grant.
///
/// Rule: the cost of the first `n` credits drawn from a grant is `round_half_even(price × n / credits)`,
/// and a draw costs the difference between that figure after and before it. So draws never lose or
/// invent a minor unit: when a grant is fully drawn, its draws sum to exactly its price.
enum GrantCost {
    static func draw(_ credits: Credits, from grant: Grant) throws -> Money {
        let drawnBefore = try grant.credits.subtracting(grant.remaining)
        let drawnAfter = try drawnBefore.adding(credits)
        precondition(drawnAfter <= grant.credits, "cannot draw more than a grant holds")
        guard let before = Checked.multiplyDivide(
            grant.cost.minorUnits, drawnBefore.microcredits, grant.credits.microcredits, .halfEven),
            let after = Checked.multiplyDivide(
                grant.cost.minorUnits, drawnAfter.microcredits, grant.credits.microcredits, .halfEven)
        else { throw PostingRejection.overflow }
        return Money(minorUnits: after - before, currency: grant.cost.currency)
    }
}

/// SHA-256 over length-prefixed fields, so no two different field lists can collide by concatenation.
enum ContentHash {
    static func of(_ fields: [String]) -> String {
        // One buffer, hashed once: feeding the hasher field by field cost more than the hashing.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.utf8.count + 4 })
        for field in fields {
            bytes.append(contentsOf: String(field.utf8.count).utf8)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: field.utf8)
        }
        return hex(SHA256.hash(data: bytes))
    }

    static func fields(_ references: TransferReferences) -> [String] {
        [references.costEventID, references.revolutOrderID, references.planPeriod, references.team,
         references.investigation, references.operation, references.memo].map { $0 ?? "-" }
    }

    static func hex<D: Sequence<UInt8>>(_ digest: D) -> String {
        // Written straight into the string's storage: ingest makes one per event.
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: hexCapacity) { buffer in
            var index = 0
            for byte in digest {
                precondition(index + 2 <= hexCapacity, "a digest is at most 64 bytes")
                buffer[index] = digits.utf8Start[Int(byte >> 4)]
                buffer[index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    /// Room for the hex of a 512-bit digest, the longest SHA-2.
    private static let hexCapacity = 128
}
