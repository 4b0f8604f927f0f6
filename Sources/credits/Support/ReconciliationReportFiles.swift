import Foundation
import Ledger
import Reconcile
import Reports

/// Glue between Reconcile's proposed transfers and the Reports writer: turns each item the plan
/// posts (replayed by reconcile's dry run) into a report row and writes the report.
enum ReconciliationReportFiles {
    static func write(
        plan: StoredPlan, proposed: ProposedTransfers, formats: Set<ReportFormat>, to directory: URL
    ) throws -> [URL] {
        let rows = RowStream<ProposedTransfer>(count: proposed.count) { body in
            var seq = 0
            try proposed.forEach { item, transfer in
                try body(Self.row(item, posted: transfer, seq: seq))
                seq += 1
            }
        }
        return try ReconciliationReportWriter(formats: formats).write(
            ReconciliationReport(plan: plan, proposed: rows), to: directory)
    }

    static func row(_ item: PlanItem, posted transfer: Transfer, seq: Int) -> ProposedTransfer {
        ProposedTransfer(
            seq: seq, kind: item.kind.transferKind, organisationID: item.organisationID,
            effectiveAt: item.effectiveAt, credits: transfer.amount,
            amount: item.amount, reference: item.subject, idempotencyKey: item.idempotencyKey)
    }
}
