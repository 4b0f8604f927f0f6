/// An organisation's balance and what it may spend.
public struct Balance: Sendable, Equatable, Codable {
    public let organisationID: String
    public let currency: Currency
    /// Credits on the organisation's account (negative in overdraft).
    public let available: Credits
    public let reservations: [Reservation]
    public let overdraftLimit: Credits

    public init(
        organisationID: String, currency: Currency, available: Credits, reservations: [Reservation],
        overdraftLimit: Credits
    ) {
        self.organisationID = organisationID
        self.currency = currency
        self.available = available
        self.reservations = reservations
        self.overdraftLimit = overdraftLimit
    }

    /// Credits held back from work at `priority`: the reservations it may not spend into.
    public func reserved(against priority: Priority) -> Credits {
        Credits(microcredits: reservations.filter { !$0.admits(priority) }.reduce(0) { $0 + $1.credits.microcredits })
    }

    /// Total reserved credits (what unprioritised work may not touch).
    public var reserved: Credits { reserved(against: .unprioritised) }

    /// Credits work at `priority` may spend: available minus the reservations it may not use.
    /// May be negative (in overdraft, or when reservations exceed the balance).
    public func spendable(for priority: Priority) -> Credits {
        Credits(microcredits: available.microcredits - reserved(against: priority).microcredits)
    }
}

/// What stops a spend: the one vocabulary of the ledger's `exceedsSpendable`, the live gate's 402
/// (`rule` in the problem body, the `credits_gate_decisions_total` label) and docs/CODES.md.
public enum SpendBlock: String, Sendable, Hashable, Codable, CaseIterable {
    /// The organisation's available balance does not cover the request (whatever is reserved).
    case insufficientBalance = "insufficient_balance"
    /// The available balance covers the request, but part of it is reserved for higher-priority
    /// investigations this work may not spend into.
    case reserveFloor = "reserve_floor"
}

/// Why a spend of `requested` credits by work at some priority was refused.
public struct SpendRefusal: Sendable, Hashable {
    public let rule: SpendBlock
    public let requested: Credits
    /// What that work may spend (never shown below zero).
    public let spendable: Credits

    public init(rule: SpendBlock, requested: Credits, spendable: Credits) {
        self.rule = rule
        self.requested = requested
        self.spendable = spendable
    }
}

extension Balance {
    /// The one spending rule, asked by the live gate before work and by the posting inside the
    /// write: work at `priority` may spend `requested` when it is within its spendable balance
    /// (`available` less the reservations it may not use). Otherwise the reserve floor blocked it
    /// when `available` alone would have covered it, else the balance is insufficient. Nil when allowed.
    public func refusal(spending requested: Credits, priority: Priority) -> SpendRefusal? {
        let spendable = spendable(for: priority)
        if requested <= spendable, spendable.isPositive { return nil }
        let rule: SpendBlock = requested <= available ? .reserveFloor : .insufficientBalance
        return SpendRefusal(rule: rule, requested: requested, spendable: max(.zero, spendable))
    }
}
