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
        discussion: """
            Exit 3 when the plan has exceptions for a person to review; `credits apply` posts the plan.
            With --apply the plan is posted as it is made, in the same transaction (for a scheduler that
            applies every plan at once): one walk instead of two, and never a stale plan. It holds the
            apply lock too, and evaluates no alerts (run `credits alerts`).
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Plan everything effective before the end of this UTC date (or before this instant). Default: now.")
    var asOf: String?

    @Option(name: .long, help: "Report open orders and unpaid purchases older than this many days.")
    var agedAfterDays: Int = 3

    @Option(name: .long, help: "Also write the plan as reconciliation.xlsx and CSVs into this existing directory.")
    var report: String?

    @Option(name: .long, help: "Comma-separated formats of --report: xlsx, csv.")
    var format = "xlsx,csv"

    @Flag(name: .long, help: "Post the plan as it is made, in the same transaction (reconcile and apply back to back).")
    var apply = false

    func validate() throws {
        if apply && report != nil {
            throw ValidationError("--report shows a plan before it posts; write it with reconcile alone, or drop --apply")
        }
    }

    func run() throws {
        let asOf = try self.asOf.map(parseAsOf) ?? options.clock()()
        let formats = try parseReportFormats(format)
        if apply { return try reconcileAndApply(asOf: asOf) }
        try Runner.run("reconcile", options: options, lock: !options.store.isPostgres) {
            let directory = report.map { URL(fileURLWithPath: $0, isDirectory: true) }
            // Before a plan is stored: a bad --report directory fails the run with the ledger as it was.
            if let directory { try OutputDirectory.checkWritable(directory) }
            // The report is written in reconcile's transaction, from a replay of its dry run: a
            // failure to write it leaves the ledger as it was.
            let (summary, files) = try LedgerWriteAccess.stage(options, "reconcile") { ledger in
                try Reconciler.reconcile(ledger, options: Reconciler.Options(asOf: asOf, agedAfterDays: agedAfterDays)) {
                    plan, proposed in
                    try directory.map { try ReconciliationReportFiles.write(plan: plan, proposed: proposed,
                                                                             formats: formats, to: $0) } ?? []
                }
            }
            var lines = Self.lines(summary, asOf: asOf)
            if !files.isEmpty { lines.append("  report: \(files.count) file(s) in \(report ?? "")") }
            return StageOutcome(summary: Summary(plan: summary, reportFiles: files.map(\.path)), human: lines,
                                needsReview: summary.needsReview)
        }
    }

    /// `--apply`: under the reconcile and the apply lock, as both stages would hold them in turn.
    private func reconcileAndApply(asOf: Instant) throws {
        try Runner.run("reconcile", options: options, lock: !options.store.isPostgres) {
            let summary = try LedgerWriteAccess.stage(options, "reconcile", alsoLocking: ["apply"]) { ledger in
                try Reconciler.reconcileAndApply(ledger, options: Reconciler.Options(asOf: asOf, agedAfterDays: agedAfterDays))
            }
            var lines = Self.lines(summary, asOf: asOf)
            lines.insert(summary.applied == true ? "applied plan \(summary.planID) as it was made"
                             : "nothing to apply: plan \(summary.planID) is already applied", at: 1)
            return StageOutcome(summary: Summary(plan: summary, reportFiles: []), human: lines,
                                needsReview: summary.needsReview)
        }
    }

    /// What a person reads: the plan, what it posts per kind, its exceptions and aged items.
    private static func lines(_ summary: Reconciler.Summary, asOf: Instant) -> [String] {
        var lines = ["plan \(summary.planID)\(summary.newPlan ? "" : " (unchanged)") as of \(asOf.iso8601), digest \(summary.digest)"]
        for kind in summary.items.keys.sorted() {
            lines.append("  \(kind): \(summary.items[kind]!) transfers, \(summary.credits[kind] ?? .zero) credits")
        }
        if summary.items.isEmpty { lines.append("  nothing to post") }
        for finding in summary.exceptions + summary.aged {
            lines.append("  \(finding.severity.rawValue) \(finding.code.rawValue) \(finding.subject): \(finding.detail)")
        }
        return lines
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
        discussion: """
            Exit 65 for an altered plan, 75 for a stale one (run reconcile again). Rerunning is a no-op.
            After posting, alerts are evaluated as `credits alerts` would; a scheduler that runs the
            alerts stage itself passes --no-alerts so each stage reports its own work.
            """)

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Do not evaluate alerts after posting (the pipeline runs `credits alerts` as its own stage).")
    var noAlerts = false

    func run() throws {
        try Runner.run("apply", options: options, lock: !options.store.isPostgres) {
            try LedgerWriteAccess.stage(options, "apply") { ledger in try applyPlan(ledger) }
        }
    }

    private func applyPlan(_ ledger: any LedgerWriting & AlertingStore) throws -> StageOutcome<ApplyOutcome> {
        let summary = try PlanApplier.apply(ledger)
        var lines: [String]
        if summary.status == .applied {
            lines = ["applied plan \(summary.planID!) (digest \(summary.digest!))"]
            for kind in summary.transfers.keys.sorted() {
                lines.append("  \(kind): \(summary.transfers[kind]!) transfers, \(summary.credits[kind] ?? .zero) credits")
            }
        } else {
            lines = ["nothing to apply: the latest plan is already applied"]
        }
        let alerts: ApplyAlerts = if noAlerts {
            ApplyAlerts(status: .skipped, detail: "--no-alerts", result: nil)
        } else if summary.status == .applied {
            evaluateAlerts(ledger)
        } else {
            ApplyAlerts(status: .skipped, detail: "nothing was applied, so nothing changed to evaluate", result: nil)
        }
        lines += alerts.result.map(AlertLines.of) ?? ["alerts \(alerts.status.rawValue): \(alerts.detail ?? "")"]
        return StageOutcome(summary: ApplyOutcome(apply: summary, alerts: alerts), human: lines)
    }

    /// Alerts after the apply has committed, in their own transaction and under the `alerts`
    /// stage lock. The apply's exit code stays the apply's: alerts that fire here are in the
    /// summary, and `credits alerts` is the stage whose exit code reports them. A failure here
    /// cannot undo the apply, so it is reported in the summary instead of failing the stage.
    private func evaluateAlerts(_ ledger: any LedgerWriting & AlertingStore) -> ApplyAlerts {
        do {
            let clock = try options.clock()
            let lock = try LedgerWriteAccess.lock("alerts", of: ledger, options)
            defer { withExtendedLifetime(lock) {} }
            let result = try AlertRun.run(
                ledger, options: AlertRun.Options(clock: clock, environment: ProcessInfo.processInfo.environment))
            return ApplyAlerts(status: .evaluated, detail: nil, result: result)
        } catch let held as StageLock.Held {
            return ApplyAlerts(status: .skipped, detail: held.description, result: nil)
        } catch {
            return ApplyAlerts(status: .error, detail: (error as? ClassifiedError)?.description ?? "\(error)",
                               result: nil)
        }
    }
}

/// What alert evaluation after an apply did: `evaluated` (with the alerts summary), `skipped`
/// (nothing applied, or another alerts run holds its lock) or `error`.
struct ApplyAlerts: Encodable {
    enum Status: String, Encodable {
        case evaluated
        case skipped
        case error
    }

    var status: Status
    var detail: String?
    var result: AlertRun.Summary?
}

/// The apply summary's own fields at the top level, plus `alerts`.
struct ApplyOutcome: Encodable {
    let apply: PlanApplier.Summary
    let alerts: ApplyAlerts

    private enum Keys: String, CodingKey {
        case alerts
    }

    func encode(to encoder: any Encoder) throws {
        try apply.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(alerts, forKey: .alerts)
    }
}
