import Ledger

/// The credit gate over the ledger: work may go ahead when the organisation's spendable balance for the
/// work's priority (less what open holds promise, at the ledger's clock) covers it (any positive amount when the cost is not yet known). High-priority
/// investigations may spend into reservations that admit them (ARCHITECTURE.md, reservations).
public struct LedgerCreditGate: CreditGate {
    let ledger: any LiveLedger

    public init(ledger: any LiveLedger) {
        self.ledger = ledger
    }

    public func decide(_ intent: SpendIntent) async throws -> GateDecision {
        // Point lookups before every spend, read in place and without a read transaction: the gate is the
        // early answer; the spend's write transaction checks the spendable balance again and refuses
        // (402) whatever changed in between.
        // One statement: the balance, whether this cost event was already charged, the investigation's priority.
        try await ledger.pointRead { [ledger] reader in
            let view: GateView
            do {
                let now = ledger.now
                view = try reader.gateView(
                    organisationID: intent.organisationID,
                    idempotencyKey: intent.costEventID.map(IdempotencyKey.deduction(costEventID:)),
                    holdIdempotencyKey: intent.holdIdempotencyKey, investigationID: intent.investigationID, spendableAt: intent.effectiveAt ?? now, now: now)
            } catch PostingRejection.organisationNotFound {
                throw ProblemDetails.organisationNotFound
            }
            // A retry of an event already charged, or of a hold already made, passes, to get its earlier answer.
            if view.alreadyPosted { return .allow }
            // Unknown investigations rank as unprioritised: they cannot unlock reserved credits.
            return Self.decide(
                balance: view.balance, priority: view.investigationPriority ?? .unprioritised, cost: intent.credits,
                as: intent.commitment)
        }
    }

    /// The ledger's spending rule (`Balance.refusal`), for a cost not yet known as the smallest amount.
    static func decide(
        balance: Balance, priority: Priority, cost: Credits?, as commitment: SpendCommitment = .charge
    ) -> GateDecision {
        guard let refusal = balance.refusal(
            spending: cost ?? Credits(microcredits: 1), priority: priority, as: commitment)
        else { return .allow }
        return .refuse(refusal, priority: priority == .unprioritised ? nil : priority.rank)
    }
}

extension ProblemDetails {
    /// 404 for an organisation that does not exist or that the caller may not see (never says which).
    public static let organisationNotFound = ProblemDetails(
        status: .notFound, problem: .organisationNotFound, title: "Not Found",
        detail: "No such organisation.")
}
