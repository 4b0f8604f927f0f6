import ArgumentParser
import Foundation
import Ledger
import Reports

/// `credits report`: the period report as one XLSX workbook and one CSV file per sheet.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the period report as XLSX and CSV (see docs/REPORTS.md).",
        discussion: """
            Sheets and files: Summary, By team, By investigation, By operation, Daily trend (with a chart),
            Unusual consumption, Reconciliation exceptions, and with --detail Transactions (every transfer
            of the period). Every figure is read from one snapshot of the ledger as sums per organisation,
            team, investigation, operation and day, and checked to tie out before any file is written.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The period, a calendar month: YYYY-MM.")
    var period: String

    @Option(name: .customLong("org"), help: "An organisation id; repeat for several. Default: every organisation.")
    var organisations: [String] = []

    @OptionGroup var output: ReportOutputOptions

    @Flag(name: .long, help: """
        Also write the Transactions sheet and CSV: every transfer of the period, one row each. It reads \
        the whole period back (minutes on a million events); without it the report reads only sums.
        """)
    var detail = false

    func run() throws {
        let period = try parseReportPeriod(period)
        let formats = try output.formats()
        // A report reads one snapshot; on PostgreSQL that is all it needs (no stage lock file to take).
        try Runner.run("report", options: options, lock: !options.store.isPostgres) {
            let directory = try output.directory()
            let clock = try options.clock()
            let run = PeriodReportRun(
                period: period, organisationIDs: organisations, formats: formats, detail: detail, generatedAt: clock())
            let summary = try LedgerReadAccess.read(options, clock: clock) { reader in try run.write(reader, to: directory) }
            let transfers = summary.rows["transactions"].map { "\($0) transfer(s), " } ?? ""
            return StageOutcome(summary: summary, human: [
                "report \(period.label): \(summary.organisations.count) organisation(s), "
                    + "\(transfers)\(summary.outputs.count) file(s) in \(output.out)",
            ])
        }
    }
}
