import Foundation
import Ledger

/// `credits apply`: posts exactly the latest reconcile plan, in one transaction.
///
/// It refuses a plan whose stored items no longer hash to its digest (altered: exit 65) and a
/// plan made stale by transfers posted since, for any organisation the plan touches (the live
/// service or an administrator moved the ledger: exit 75, run reconcile again). Applying twice
/// posts once: an applied plan is not applied again.
public enum PlanApplier {
    public struct Summary: Sendable, Codable, Equatable {
        /// `applied`, or `nothing_to_apply` when the latest plan was already applied or none exists.
        public var status: String
        public var planID: Int64?
        public var digest: String?
        public var transfers: [String: Int]
        public var credits: [String: Credits]
    }

    public enum Refusal: ClassifiedError, Equatable {
        case planAltered(planID: Int64)
        case planStale(planID: Int64, organisations: [String])
        case postingDiffersFromPlan(planID: Int64, key: String)

        public var failureClass: FailureClass {
            switch self {
            case .planAltered: .badData
            case .planStale, .postingDiffersFromPlan: .locked
            }
        }

        public var description: String {
            switch self {
            case .planAltered(let id):
                "plan \(id) does not match its digest: it was altered after reconcile; run `credits reconcile` again"
            case .planStale(let id, let organisations):
                "plan \(id) is stale: the ledger moved since reconcile for \(organisations.joined(separator: ", ")); "
                    + "run `credits reconcile` again"
            case .postingDiffersFromPlan(let id, let key):
                "plan \(id): \(key) no longer posts as planned; run `credits reconcile` again"
            }
        }
    }

    public static func apply(_ ledger: LedgerDatabase) throws -> Summary {
        let summary = try post(ledger)
        CrashPoint.hit("apply.afterCommit")
        return summary
    }

    private static func post(_ ledger: LedgerDatabase) throws -> Summary {
        try ledger.write { tx in
            guard let plan = try tx.reader.latestPlan(), plan.status == .planned else {
                return Summary(status: "nothing_to_apply", planID: nil, digest: nil, transfers: [:], credits: [:])
            }
            // First pass: the stored items must hash to the plan's digest and read back as items.
            var digest = PlanDigest(asOf: plan.asOf)
            var touched = Set<String>()
            try tx.reader.forEachPlanItem(ofPlan: plan.id) { stored in
                digest.add(payload: stored.payload)
                touched.insert(try item(stored, of: plan).organisationID)
            }
            guard digest.finalize(stored: plan.findings) == plan.digest else {
                throw Refusal.planAltered(planID: plan.id)
            }
            let moved = try tx.reader.organisationsMoved(since: plan.ledgerPosition).intersection(touched)
            guard moved.isEmpty else { throw Refusal.planStale(planID: plan.id, organisations: moved.sorted()) }

            // Second pass: post them, one at a time, so a million items never sit in memory.
            var transfers: [String: Int] = [:]
            var credits: [String: Credits] = [:]
            try tx.reader.forEachPlanItem(ofPlan: plan.id) { stored in
                let item = try item(stored, of: plan)
                guard let transfer = try item.post(in: tx).transfer, transfer.idempotencyKey == item.idempotencyKey else {
                    throw Refusal.postingDiffersFromPlan(planID: plan.id, key: item.idempotencyKey)
                }
                transfers[item.kind.rawValue, default: 0] += 1
                credits[item.kind.rawValue] = try (credits[item.kind.rawValue] ?? .zero).adding(transfer.amount)
            }
            try tx.markApplied(planID: plan.id)
            CrashPoint.hit("apply.beforeCommit")
            return Summary(status: "applied", planID: plan.id, digest: plan.digest, transfers: transfers, credits: credits)
        }
    }

    private static func item(_ stored: StoredPlanItem, of plan: StoredPlan) throws -> PlanItem {
        do {
            return try PlanItem(payload: stored.payload)
        } catch {
            throw Refusal.planAltered(planID: plan.id)
        }
    }
}
