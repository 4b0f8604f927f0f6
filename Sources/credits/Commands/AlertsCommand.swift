import ArgumentParser
import Foundation
import Ledger
import Reconcile

/// `credits alerts`: evaluate low balance, runway and unusual consumption as of the clock, record
/// crossings, and deliver the signed webhooks waiting in the outbox.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Evaluate alerts as of now (--now), record crossings, deliver signed webhooks with retries.",
        discussion: """
            Each alert fires once per crossing and re-arms when its condition clears (docs/ALERTS.md).
            Exit 3 when an alert fired or a delivery failed, 75 when another run holds the lock.
            """)

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Print what would fire and be sent; change nothing and send nothing.")
    var dryRun = false

    func run() throws {
        // On PostgreSQL the stage lock is the database's advisory lock, taken once connected.
        try Runner.run("alerts", options: options, lock: !options.store.isPostgres) {
            let clock = try options.clock()
            let runOptions = AlertRun.Options(
                clock: clock, dryRun: dryRun, environment: ProcessInfo.processInfo.environment)
            let summary = switch options.store {
            case .sqlite(let path):
                try AlertRun.run(LedgerDatabase.open(at: path, clock: clock), options: runOptions)
            case .postgres(let location):
                try PostgresStore.using(location, clock: clock, stageLock: "alerts", wait: options.wait) {
                    try AlertRun.run($0, options: runOptions)
                }
            }
            return StageOutcome(summary: summary, human: AlertLines.of(summary), needsReview: summary.needsReview)
        }
    }
}

/// The lines a person reads for an alerts run (also printed by `credits apply`).
enum AlertLines {
    static func of(_ summary: AlertRun.Summary) -> [String] {
        let dryRun = summary.dryRun ? " (dry run: nothing changed or sent)" : ""
        var lines = ["alerts as of \(summary.asOf.iso8601)\(dryRun)"]
        for alert in summary.fired {
            let runOut = alert.runOutDate.map { ", runs out \($0)" } ?? ""
            lines.append("  FIRED \(alert.organisationID) \(alert.rule.rawValue) \(alert.subject): \(alert.value) "
                         + "\(alert.unit) (threshold \(alert.threshold))\(runOut)")
        }
        for rearmed in summary.rearmed {
            lines.append("  re-armed \(rearmed.organisationID) \(rearmed.rule.rawValue) \(rearmed.subject): \(rearmed.value)")
        }
        for planned in summary.wouldSend {
            lines.append("  would send to \(planned.destination) (attempt \(planned.attempt)): \(planned.body)")
        }
        let counts = summary.deliveries
        if !summary.dryRun {
            lines.append("  deliveries: \(counts.attempted) attempted, \(counts.succeeded) delivered, "
                         + "\(counts.failed) failed, \(counts.abandoned) given up")
        }
        for failure in summary.failures {
            let next = failure.retryAt.map { "retry after \($0.iso8601)" } ?? "given up"
            lines.append("  delivery to \(failure.destination) failed (attempt \(failure.attempts), \(next)): "
                         + failure.error)
        }
        return lines
    }
}
