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

    @Option(name: .long, help: "The directory to write into (created when missing).")
    var out: String

    @Option(name: .long, help: "Comma-separated output formats: xlsx, csv.")
    var format = "xlsx,csv"

    @Flag(name: .long, help: """
        Also write the Transactions sheet and CSV: every transfer of the period, one row each. It reads \
        the whole period back (minutes on a million events); without it the report reads only sums.
        """)
    var detail = false

    struct Summary: Encodable {
        let period: String
        let organisations: [String]
        let outputs: [String]
        let rows: [String: Int]
    }

    func run() throws {
        let period = try parseReportPeriod(period)
        let formats = try parseReportFormats(format)
        try Runner.run("report", options: options) {
            try OutputDirectory.create(URL(fileURLWithPath: out, isDirectory: true))
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let generatedAt = try options.clock()()
            let writer = PeriodReportWriter(baseName: baseName(period), formats: formats)
            let summary = try ledger.read { reader in
                try write(reader, period: period, generatedAt: generatedAt, writer: writer)
            }
            let transfers = summary.rows["transactions"].map { "\($0) transfer(s), " } ?? ""
            return StageOutcome(summary: summary, human: [
                "report \(period.label): \(summary.organisations.count) organisation(s), "
                    + "\(transfers)\(summary.outputs.count) file(s) in \(out)",
            ])
        }
    }

    /// `credits-report-2026-11`, or with the organisations asked for: `credits-report-2026-11-org-a`.
    func baseName(_ period: ReportPeriod) -> String {
        let suffix = organisations.isEmpty ? "" : "-" + organisations.joined(separator: "+")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        return "credits-report-\(period.label)" + String(suffix.map { allowed.contains($0) ? $0 : "_" })
    }

    /// Builds the report from one snapshot and writes the files while the snapshot is held, so
    /// the streamed transaction detail (with `--detail`) agrees with its count.
    func write(
        _ reader: LedgerReader, period: ReportPeriod, generatedAt: Instant, writer: PeriodReportWriter
    ) throws -> Summary {
        let organisations = try PeriodReportQuery.organisations(
            reader, ids: self.organisations.isEmpty ? nil : self.organisations)
        let exceptions = try PeriodReportQuery.reconciliationExceptions(
            reader, organisationIDs: self.organisations.isEmpty ? nil : organisations.map(\.id))
        let report = try PeriodReportQuery.report(
            reader, period: period, organisations: organisations, generatedAt: generatedAt, exceptions: exceptions)
        let details = detail ? try PeriodReportQuery.details(reader, period: period, organisations: organisations)
            : nil
        let files = try writer.write(report, details: details, to: URL(fileURLWithPath: out, isDirectory: true))
        var rows = [
            "summary": report.summary.count, "byTeam": report.byTeam.count,
            "byInvestigation": report.byInvestigation.count, "byOperation": report.byOperation.count,
            "dailyTrend": report.dailyTrend.count, "unusualConsumption": report.unusualConsumption.count,
            "reconciliationExceptions": report.reconciliationExceptions.count,
        ]
        if let details { rows["transactions"] = details.count }
        return Summary(period: period.label, organisations: organisations.map(\.id), outputs: files.map(\.path),
                       rows: rows)
    }
}
