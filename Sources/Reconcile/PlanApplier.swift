import Foundation
import Ledger

/// `credits apply`: posts the latest reconcile plan, in one transaction.
///
/// The plan does not store its items. Apply walks the same candidates reconcile walked (same
/// as-of, same options), posting for real inside its own write transaction, and commits only if
/// what it posted has the reviewed plan's digest: the ledger then moved exactly as finance
/// reviewed it, whatever the live service or an administrator posted in between. Otherwise it
/// rolls back and refuses the plan as stale (exit 75: run reconcile again, which makes a fresh
/// plan). A stored plan whose rows no longer match their seal was altered (exit 65). Applying
/// twice posts once: an applied plan is not applied again.
public enum PlanApplier {
    public struct Summary: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable, Equatable {
            case applied
            /// The latest plan was already applied, or none exists.
            case nothingToApply = "nothing_to_apply"
        }

        public var status: Status
        public var planID: Int64?
        public var digest: String?
        public var transfers: [String: Int]
        public var credits: [String: Credits]
    }

    public enum Refusal: ClassifiedError, Equatable {
        case planAltered(planID: Int64)
        /// What posting the plan would do today differs from what was reviewed; `organisations`
        /// are those whose totals or findings moved (empty when only the order or items did).
        case planStale(planID: Int64, organisations: [String])
        /// Made by an earlier version, which stored items instead of a seal.
        case planFromEarlierVersion(planID: Int64)

        public var failureClass: FailureClass {
            switch self {
            case .planAltered: .badData
            case .planStale, .planFromEarlierVersion: .locked
            }
        }

        public var description: String {
            switch self {
            case .planAltered(let id):
                "plan \(id) does not match its seal: it was altered after reconcile; run `credits reconcile` again"
            case .planStale(let id, let organisations):
                "plan \(id) is stale: posting it now would differ from what was reviewed"
                    + (organisations.isEmpty ? "" : " for \(organisations.joined(separator: ", "))")
                    + "; nothing was posted; run `credits reconcile` again"
            case .planFromEarlierVersion(let id):
                "plan \(id) was made by an earlier version of credits; run `credits reconcile` again"
            }
        }
    }

    public static func apply(_ ledger: some LedgerWriting) throws -> Summary {
        let summary = try post(ledger)
        CrashPoint.hit("apply.afterCommit")
        return summary
    }

    private static func post(_ ledger: some LedgerWriting) throws -> Summary {
        try ledger.write(as: .pipeline(.apply)) { tx in
            guard let plan = try tx.reader.latestPlan(), plan.status == .planned else {
                return Summary(status: .nothingToApply, planID: nil, digest: nil, transfers: [:], credits: [:])
            }
            guard plan.seal != nil, let agedAfterDays = plan.agedAfterDays else {
                throw Refusal.planFromEarlierVersion(planID: plan.id)
            }
            guard PlanSeal.holds(for: plan) else { throw Refusal.planAltered(planID: plan.id) }

            // Plan again, posting for real; throwing rolls every posting back. Each transfer names the plan.
            let tx = tx.acting(as: .pipeline(.apply, plan: plan.id))
            // Usage is charged in runs (`BatchPostingBook`): the same decisions per event, fewer rows.
            let book = try BatchPostingBook(tx)
            let walk = try PlanWalk.run(reader: tx.reader, book: book, asOf: plan.asOf, agedAfterDays: agedAfterDays)
            try book.finish()
            guard walk.digest == plan.digest else {
                throw Refusal.planStale(planID: plan.id, organisations: moved(from: plan, to: walk).sorted())
            }
            try tx.markApplied(planID: plan.id)
            CrashPoint.hit("apply.beforeCommit")
            return Summary(status: .applied, planID: plan.id, digest: plan.digest,
                           transfers: walk.totals.transfersByKind, credits: walk.totals.creditsByKind())
        }
    }

    /// Organisations whose totals or findings differ between the reviewed plan and the walk.
    private static func moved(from plan: StoredPlan, to walk: PlanWalk) -> Set<String> {
        // Compared as stored text, so a finding reads the same on both sides whatever its code.
        let reviewed = Set(plan.findings.map {
            [$0.severity.rawValue, $0.code.rawValue, $0.organisationID ?? "", $0.subject, $0.detail]
        })
        let now = Set(walk.findings.map {
            [$0.severity.rawValue, $0.code.rawValue, $0.organisationID ?? "", $0.subject, $0.detail]
        })
        return walk.totals.organisationsDiffering(from: PlanTotals(plan.totals))
            .union(reviewed.symmetricDifference(now).map { $0[2] }.filter { !$0.isEmpty })
    }
}
