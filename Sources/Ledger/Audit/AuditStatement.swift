import Crypto

/// An organisation's audit statement for a window of effective time: its balance at the opening, every
/// movement in the window with who made it and why, the balance after each, and the closing balance;
/// with a digest over all of it that a second run over the same ledger reproduces
/// (`credits ledger audit`, docs/LEDGER.md "Audit statements").
///
/// Movements are in effective order (then transfer id), and each one's balance is the running balance in
/// that order, starting from the opening balance; so the last one's balance is the closing balance, which
/// is also `balance(of:asOf:)` at the window's last instant. Streamed (`forEachEntry`), since one
/// organisation's month can hold hundreds of thousands of deductions.
public struct AuditStatement {
    public let organisationID: String
    public let currency: Currency
    /// The window: effective at or after `from`, before `to`.
    public let from: Instant
    public let to: Instant
    public let opening: Credits
    public let closing: Credits
    public let entryCount: Int
    /// SHA-256 (hex) of the statement's canonical text (`AuditStatementDigest`).
    public let digest: String
    /// Calls `body` with every movement, in order; reads the ledger again each time it is called.
    public let forEachEntry: ((AuditEntry) throws -> Void) throws -> Void
    /// The operator's signature of `digest`, or nil: the statement is unsigned (docs/LEDGER.md).
    public var signature: AuditStatementSignature? = nil

    /// The same statement signed with `key` (unchanged if `key` is nil).
    public func signed(with key: AuditSigningKey?) -> AuditStatement {
        var copy = self
        copy.signature = key?.sign(digest: digest)
        return copy
    }

    /// What a statement says of its signature where there is none.
    public static let unsignedText = "unsigned"
}

/// One movement of an audit statement.
public struct AuditEntry: Sendable, Hashable, Codable {
    public let transferID: Int64
    public let effectiveAt: Instant
    public let recordedAt: Instant
    public let kind: TransferKind
    /// Into the organisation positive, out of it negative.
    public let credits: Credits
    /// The transfer's money, signed like `credits`.
    public let money: Money
    /// The organisation's balance after this movement, in the statement's order.
    public let balance: Credits
    public let actor: Actor
    /// Why: the memo an administrator gave (`--reason`), else nil.
    public let reason: String?
    public let idempotencyKey: String
    /// What the movement refers to: the cost event, the Revolut order or the plan period, if any.
    public let reference: String?

    /// The organisation's balance before this movement.
    public var balanceBefore: Credits { Credits(microcredits: balance.microcredits &- credits.microcredits) }

    public init(
        transferID: Int64, effectiveAt: Instant, recordedAt: Instant, kind: TransferKind, credits: Credits,
        money: Money, balance: Credits, actor: Actor, reason: String?, idempotencyKey: String, reference: String?
    ) {
        self.transferID = transferID
        self.effectiveAt = effectiveAt
        self.recordedAt = recordedAt
        self.kind = kind
        self.credits = credits
        self.money = money
        self.balance = balance
        self.actor = actor
        self.reason = reason
        self.idempotencyKey = idempotencyKey
        self.reference = reference
    }
}

/// The canonical text an audit statement's digest is taken over, one line per fact, fields separated by
/// tabs (no field holds a tab or a newline unescaped: both are written as `\t` and `\n`):
///
///     credits-audit-statement v1
///     organisation <id>  currency <code>  from <ms>  to <ms>  opening <micro-credits>
///     <transfer id> <effective ms> <recorded ms> <kind> <credits> <money minor> <balance> <actor> <reason> <key> <reference>
///     ...
///     closing <micro-credits>  entries <n>
///
/// Wall-clock reading times are not in it, so two runs over the same ledger agree. An empty reason or
/// reference is the same as none. `credits ledger audit-verify` feeds it the rows it reads back.
public struct AuditStatementDigest {
    private var hash = SHA256()

    public init(organisationID: String, currency: Currency, from: Instant, to: Instant, opening: Credits) {
        line(["credits-audit-statement v1"])
        line(["organisation", organisationID, "currency", currency.code, "from", "\(from.millisecondsSinceEpoch)",
              "to", "\(to.millisecondsSinceEpoch)", "opening", "\(opening.microcredits)"])
    }

    public mutating func add(_ entry: AuditEntry) {
        line(["\(entry.transferID)", "\(entry.effectiveAt.millisecondsSinceEpoch)",
              "\(entry.recordedAt.millisecondsSinceEpoch)", entry.kind.rawValue, "\(entry.credits.microcredits)",
              "\(entry.money.minorUnits)", "\(entry.balance.microcredits)", entry.actor.storedText,
              entry.reason ?? "", entry.idempotencyKey, entry.reference ?? ""])
    }

    public mutating func finish(closing: Credits, entries: Int) -> String {
        line(["closing", "\(closing.microcredits)", "entries", "\(entries)"])
        return hash.finalize().map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }

    private mutating func line(_ fields: [String]) {
        let escaped = fields.map {
            $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        hash.update(data: Array((escaped.joined(separator: "\t") + "\n").utf8))
    }
}
