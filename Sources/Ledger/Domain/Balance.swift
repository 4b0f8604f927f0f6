/// An organisation's balance and what it may spend.
public struct Balance: Sendable, Equatable, Codable {
    public let organisationID: String
    public let currency: Currency
    /// Credits on the organisation's account (negative in overdraft).
    public let available: Credits
    public let reservations: [Reservation]
    public let overdraftLimit: Credits
    /// Credits promised to open holds that have not expired (`Hold`): no other work may spend them.
    /// Zero where holds do not bind (batch usage that already happened; the posting's own check).
    public let held: Credits

    public init(
        organisationID: String, currency: Currency, available: Credits, reservations: [Reservation],
        overdraftLimit: Credits, held: Credits = .zero
    ) {
        precondition(!held.isNegative, "held credits are a sum of positive hold estimates")
        self.organisationID = organisationID
        self.currency = currency
        self.available = available
        self.reservations = reservations
        self.overdraftLimit = overdraftLimit
        self.held = held
    }

    /// This balance with `held` credits promised to open holds.
    public func holding(_ held: Credits) -> Balance {
        Balance(organisationID: organisationID, currency: currency, available: available, reservations: reservations,
                overdraftLimit: overdraftLimit, held: held)
    }

    /// Credits held back from work at `priority`: the reservations it may not spend into.
    public func reserved(against priority: Priority) -> Credits {
        Credits(microcredits: reservations.filter { !$0.admits(priority) }.reduce(0) { $0 + $1.credits.microcredits })
    }

    /// Total reserved credits (what unprioritised work may not touch).
    public var reserved: Credits { reserved(against: .unprioritised) }

    /// Credits work at `priority` may spend: available minus the reservations it may not use and
    /// minus what open holds were promised. May be negative (in overdraft, or when reservations and
    /// holds exceed the balance).
    public func spendable(for priority: Priority) -> Credits {
        Credits(microcredits: available.microcredits - reserved(against: priority).microcredits - held.microcredits)
    }
}

/// What stops a spend: the one vocabulary of the ledger's `exceedsSpendable`, the live gate's 402
/// (`rule` in the problem body, the `credits_gate_decisions_total` label), holds, GraphQL
/// `extensions.code` and docs/CODES.md.
public enum SpendBlock: String, Sendable, Hashable, Codable, CaseIterable {
    /// The organisation's available balance (less what open holds were promised) does not cover the
    /// request, whatever is reserved.
    case insufficientBalance = "insufficient_balance"
    /// The available balance covers the request, but part of it is reserved for higher-priority
    /// investigations this work may not spend into.
    case reserveFloor = "reserve_floor"
    /// A hold's estimate (or a settlement above it) is more than the balance can still promise:
    /// available less what other open holds were promised.
    case holdExceedsBalance = "hold_exceeds_balance"
    /// Reserved for budgets (issue 18): a budget of the scope named in the refusal would be passed.
    /// Not produced yet; the refusal's `budget` carries its limit, use and reset.
    case budgetExceeded = "budget_exceeded"
}

/// Which level of an organisation a refusal blocked at.
public enum SpendScopeKind: String, Sendable, Hashable, Codable, CaseIterable {
    case organisation, team, investigation
}

/// The scope that blocked a spend: its kind and its id (the organisation's, team's or
/// investigation's own id).
public struct SpendScope: Sendable, Hashable {
    public let kind: SpendScopeKind
    public let id: String

    public init(_ kind: SpendScopeKind, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func organisation(_ id: String) -> SpendScope { SpendScope(.organisation, id: id) }
}

/// A budget's standing when it refused a spend (`budget_exceeded`): its limit, what the period used
/// so far and when the period resets. Reserved for budgets; no rule produces it yet.
public struct BudgetStanding: Sendable, Hashable {
    public let limit: Credits
    public let used: Credits
    public let resetsAt: Instant?

    public init(limit: Credits, used: Credits, resetsAt: Instant?) {
        self.limit = limit
        self.used = used
        self.resetsAt = resetsAt
    }
}

/// Why a spend of `requested` credits by work at some priority was refused.
public struct SpendRefusal: Sendable, Hashable {
    public let rule: SpendBlock
    /// The scope whose rule blocked the spend (the organisation, for the balance rules).
    public let scope: SpendScope
    public let requested: Credits
    /// What that work may spend (never shown below zero).
    public let spendable: Credits
    /// The budget that refused it, for `budget_exceeded` only.
    public let budget: BudgetStanding?

    public init(
        rule: SpendBlock, scope: SpendScope, requested: Credits, spendable: Credits, budget: BudgetStanding? = nil
    ) {
        precondition((rule == .budgetExceeded) == (budget != nil), "a budget refusal, and only one, names its budget")
        self.rule = rule
        self.scope = scope
        self.requested = requested
        self.spendable = spendable
        self.budget = budget
    }
}

/// What asks to spend: work charged now, or a hold promising credits to work not yet done.
public enum SpendCommitment: Sendable, Hashable {
    case charge, hold
}

extension Balance {
    /// The one spending rule, asked by the live gate before work, by holds, and by the posting
    /// inside the write: work at `priority` may spend `requested` when it is within its spendable
    /// balance (`available` less the reservations it may not use and less what open holds were
    /// promised). Otherwise the reserve floor blocked it when `available` less holds alone would have
    /// covered it; else a hold is `hold_exceeds_balance` and a charge `insufficient_balance`. Nil when
    /// allowed.
    public func refusal(
        spending requested: Credits, priority: Priority, as commitment: SpendCommitment = .charge
    ) -> SpendRefusal? {
        let spendable = spendable(for: priority)
        if requested <= spendable, spendable.isPositive { return nil }
        let unheld = Credits(microcredits: available.microcredits - held.microcredits)
        let rule: SpendBlock = if requested <= unheld {
            .reserveFloor
        } else {
            commitment == .hold ? .holdExceedsBalance : .insufficientBalance
        }
        return SpendRefusal(
            rule: rule, scope: .organisation(organisationID), requested: requested, spendable: max(.zero, spendable))
    }
}
