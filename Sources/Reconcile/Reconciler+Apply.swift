import Ledger

/// `credits reconcile --apply`: reconcile and apply back to back, as one transaction and one walk.
///
/// A scheduler that applies every plan as soon as it is made (`pipelines/nightly.sh`) gains nothing
/// from the review gap between the two stages, and pays for it twice: the candidates are walked
/// once by reconcile's simulation and again by apply, and anything posted in between (live usage, a
/// webhook top-up, an adjustment) makes the plan stale, so apply refuses it and the night has to
/// plan again. Here the walk posts for real, inside the transaction that stores the plan (its
/// digest, totals and findings, sealed, as reconcile stores them) and marks it applied. Nothing can
/// post in between, so the plan is never stale; what the ledger holds afterwards is what
/// `reconcile` then `apply` would have posted on the same ledger, transfer for transfer (the
/// transfers name the plan as apply's do: `pipeline:apply:plan-<id>`).
extension Reconciler {
    public static func reconcileAndApply(_ ledger: some LedgerWriting, options: Options) throws -> Summary {
        let outcome = try ledger.write(as: .pipeline(.reconcile)) { tx in
            let inputs = try tx.reader.planInputs()
            // Nothing changed since this night's plan was applied: a walk would post nothing.
            if let applied = try planWithUnchangedInputs(tx.reader, inputs: inputs, options: options),
                applied.status == .applied
            {
                CrashPoint.hit("reconcile.beforeCommit")
                return appliedSummary(summary(ofStored: applied, options: options, inputsUnchanged: true), now: false)
            }
            let planID = try tx.nextPlanID()
            let posting = tx.acting(as: .pipeline(.apply, plan: planID))
            // Usage is charged in runs, as apply charges it (`BatchPostingBook`); the book holds the ledger's
            // postings from here, so the position read next is the one the walk starts from.
            let book = try BatchPostingBook(posting)
            let ledgerPosition = try tx.reader.ledgerPosition()
            let walk = try PlanWalk.run(
                reader: posting.reader, book: book, asOf: options.asOf, agedAfterDays: options.agedAfterDays)
            try book.finish()
            CrashPoint.hit("apply.beforeCommit")

            let result: Summary
            if let previous = try tx.reader.latestPlan(), PlanSeal.holds(for: previous),
                isAppliedPlanSeenAgain(previous, walk: walk, options: options, ledgerPosition: ledgerPosition)
            {
                // A rerun after something unrelated moved (nothing posted): the applied plan stands.
                try tx.recordPlanInputs(planID: previous.id, inputs: try tx.reader.planInputs())
                result = appliedSummary(summary(ofStored: previous, options: options), now: false)
            } else {
                let plan = try store(walk, id: planID, options: options, ledgerPosition: ledgerPosition, inputs: nil,
                                     in: tx)
                try tx.markApplied(planID: plan.id)
                // Recorded once applied, so a rerun on the same inputs finds this plan and posts nothing.
                try tx.recordPlanInputs(planID: plan.id, inputs: try tx.reader.planInputs())
                result = appliedSummary(summary(of: walk, planID: plan.id, newPlan: true, options: options), now: true)
            }
            CrashPoint.hit("reconcile.beforeCommit")
            return result
        }
        CrashPoint.hit("reconcile.afterCommit")
        return outcome
    }

    private static func appliedSummary(_ summary: Summary, now: Bool) -> Summary {
        var summary = summary
        summary.applied = now
        return summary
    }
}
