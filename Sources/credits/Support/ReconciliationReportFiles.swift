import Foundation
import Ledger
import Reconcile
import Reports

/// Glue between Reconcile's plan items and the Reports writer: decodes the stored plan's items
/// (their payload format belongs to Reconcile) into report rows and writes the report.
enum ReconciliationReportFiles {
    static func write(
        _ ledger: LedgerDatabase, planID: Int64, formats: Set<ReportFormat>, to directory: URL
    ) throws -> [URL] {
        // Written inside the read: the proposed transfers are streamed from the stored plan.
        try ledger.read { reader in
            guard let plan = try reader.plan(id: planID) else { preconditionFailure("plan \(planID) was just stored") }
            let items = RowStream<ProposedTransfer>(count: plan.itemCount) { body in
                try reader.forEachPlanItem(ofPlan: planID) { try body(try proposed($0)) }
            }
            return try ReconciliationReportWriter(formats: formats).write(
                ReconciliationReport(plan: plan, proposed: items), to: directory)
        }
    }

    static func proposed(_ stored: StoredPlanItem) throws -> ProposedTransfer {
        let item = try PlanItem(payload: stored.payload)
        let references = item.references
        let reference = references.revolutOrderID ?? item.order?.orderID ?? references.costEventID
            ?? references.planPeriod ?? item.grantKey ?? ""
        return ProposedTransfer(
            seq: stored.seq, kind: item.kind.rawValue, organisationID: item.organisationID,
            effectiveAt: item.effectiveAt, credits: item.credits ?? item.order?.credits,
            amount: item.price ?? item.order?.price, reference: reference, idempotencyKey: item.idempotencyKey)
    }
}
