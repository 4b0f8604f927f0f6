import ArgumentParser
import Foundation
import Ledger
import Reconcile
import Reports

/// `credits reconcile`: plan the transfers that bring the ledger up to date; change no balance.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Plan allocations, payment top-ups and reversals, usage deductions and expiries (no balance changes).",
        discussion: "Exit 3 when the plan has exceptions for a person to review; `credits apply` posts the plan.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Plan everything effective before the end of this UTC date (or before this instant). Default: now.")
    var asOf: String?

    @Option(name: .long, help: "Report open orders and unpaid purchases older than this many days.")
    var agedAfterDays: Int = 3

    @Option(name: .long, help: "Also write the plan as reconciliation.xlsx and CSVs into this existing directory.")
    var report: String?

    @Option(name: .long, help: "Comma-separated formats of --report: xlsx, csv.")
    var format = "xlsx,csv"

    func run() throws {
        let asOf = try self.asOf.map(parseAsOf) ?? options.clock()()
        let formats = try parseReportFormats(format)
        try Runner.run("reconcile", options: options) {
            let directory = report.map { URL(fileURLWithPath: $0, isDirectory: true) }
            // Before a plan is stored: a bad --report directory fails the run with the ledger as it was.
            if let directory { try OutputDirectory.checkWritable(directory) }
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let summary = try Reconciler.reconcile(
                ledger, options: Reconciler.Options(asOf: asOf, agedAfterDays: agedAfterDays))
            let files = try directory.map { try ReconciliationReportFiles.write(ledger, planID: summary.planID,
                                                                                 formats: formats, to: $0) } ?? []
            var lines = ["plan \(summary.planID)\(summary.newPlan ? "" : " (unchanged)") as of \(asOf.iso8601), digest \(summary.digest)"]
            for kind in summary.items.keys.sorted() {
                lines.append("  \(kind): \(summary.items[kind]!) transfers, \(summary.credits[kind] ?? .zero) credits")
            }
            if summary.items.isEmpty { lines.append("  nothing to post") }
            for finding in summary.exceptions + summary.aged {
                lines.append("  \(finding.severity.rawValue) \(finding.code) \(finding.subject): \(finding.detail)")
            }
            if !files.isEmpty { lines.append("  report: \(files.count) file(s) in \(report ?? "")") }
            return StageOutcome(summary: Summary(plan: summary, reportFiles: files.map(\.path)), human: lines,
                                needsReview: summary.needsReview)
        }
    }

    /// The reconcile summary, with the report files when `--report` was given.
    struct Summary: Encodable {
        let plan: Reconciler.Summary
        let reportFiles: [String]

        func encode(to encoder: any Encoder) throws {
            try plan.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(reportFiles, forKey: .reportFiles)
        }

        enum CodingKeys: String, CodingKey { case reportFiles }
    }

    /// A date means "up to the end of that day in UTC": the next midnight, exclusive.
    private func parseAsOf(_ text: String) throws -> Instant {
        if let date = LocalDate.parse(text) { return date.adding(days: 1).startInstant(in: TimeZone(identifier: "UTC")!) }
        return try parseInstantArgument(text, option: "--as-of")
    }
}

/// `credits apply`: post the latest plan exactly, in one transaction.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Post the latest reconcile plan in one transaction (refuses an altered or stale plan).",
        discussion: "Exit 65 for an altered plan, 75 for a stale one (run reconcile again). Rerunning is a no-op.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try Runner.run("apply", options: options) {
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let summary = try PlanApplier.apply(ledger)
            var lines: [String]
            if summary.status == "applied" {
                lines = ["applied plan \(summary.planID!) (digest \(summary.digest!))"]
                for kind in summary.transfers.keys.sorted() {
                    lines.append("  \(kind): \(summary.transfers[kind]!) transfers, \(summary.credits[kind] ?? .zero) credits")
                }
            } else {
                lines = ["nothing to apply: the latest plan is already applied"]
            }
            return StageOutcome(summary: summary, human: lines)
        }
    }
}
