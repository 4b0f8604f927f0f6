import Ledger

/// A rerun of reconcile for a night whose plan is already applied (the nightly job run again, a
/// stage rerun after a kill): the plan's transfers are in the ledger now, so a fresh walk posts
/// nothing, and its findings are those of a ledger that has moved on (the usage the plan charged
/// into overdraft is no longer "to be charged"; the balance quoted for usage beyond the limit is
/// after the plan; the top-ups it recorded now read as matched). Storing that walk as a new plan
/// would change the reconciliation report and the period report's Reconciliation exceptions sheet
/// for the same inputs. Such a rerun keeps the applied plan, and answers with its figures and
/// findings, as the first run did.
extension Reconciler {
    /// Whether `walk`, made on the ledger as it is now, is `previous` seen again after its apply:
    /// the same as-of instant and aged-after days; nothing left to post; no transfer in the ledger
    /// beyond the plan's own; and no exception or aged finding (by code, organisation and subject)
    /// that the plan did not already have, so a later input that only raises findings still gets a
    /// plan of its own.
    static func isAppliedPlanSeenAgain(
        _ previous: StoredPlan, walk: PlanWalk, options: Options, ledgerPosition: Int64
    ) -> Bool {
        guard previous.status == .applied, previous.asOf == options.asOf,
            previous.agedAfterDays == options.agedAfterDays, walk.totals.count == 0
        else { return false }
        let posted = previous.totals.reduce(Int64(0)) { $0 + Int64($1.transfers) }
        guard ledgerPosition == previous.ledgerPosition + posted else { return false }
        struct Key: Hashable {
            let code: FindingCode
            let organisationID: String?
            let subject: String
        }
        let known = Set(previous.findings.map { Key(code: $0.code, organisationID: $0.organisationID, subject: $0.subject) })
        return walk.findings.allSatisfy { finding in
            finding.severity == .matched
                || known.contains(Key(code: finding.code, organisationID: finding.organisationID,
                                      subject: finding.subject))
        }
    }

    /// The summary of a stored plan kept by a rerun (an applied one seen again, or one whose inputs
    /// have not changed): its stored figures and findings, so the rerun prints, and exits, as the run
    /// that made it did.
    static func summary(ofStored plan: StoredPlan, options: Options, inputsUnchanged: Bool = false) -> Summary {
        let totals = PlanTotals(plan.totals)
        let findings = plan.findings.map { stored in
            Finding(severity: stored.severity, code: stored.code, organisationID: stored.organisationID,
                    subject: stored.subject, detail: stored.detail)
        }
        return Summary(
            planID: plan.id, digest: plan.digest, newPlan: false, inputsUnchanged: inputsUnchanged, asOf: options.asOf,
            items: totals.transfersByKind,
            credits: totals.creditsByKind(),
            findings: Dictionary(grouping: findings, by: \.severity.rawValue).mapValues(\.count),
            exceptions: findings.filter { $0.severity == .exception }, aged: findings.filter { $0.severity == .aged })
    }
}
