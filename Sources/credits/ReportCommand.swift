import ArgumentParser
import Foundation
import Ledger
import Reports

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `credits report`: the period report as one XLSX workbook and one CSV file per sheet.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the period report (Summary, By team, By investigation, By operation, Daily trend, "
            + "Unusual consumption, Reconciliation exceptions, Transactions) as XLSX and CSV.")

    @Option(help: "The ledger database.")
    var db = "credits.sqlite"

    @Option(help: "The period, a calendar month: YYYY-MM.")
    var period: String

    @Option(name: .customLong("org"), help: "An organisation id; repeat for several. All organisations when absent.")
    var organisations: [String] = []

    @Option(help: "The directory to write into (it must exist).")
    var out: String

    @Option(help: "Comma-separated output formats: xlsx, csv.")
    var format = "xlsx,csv"

    @Flag(help: "Print a machine-readable summary on stdout.")
    var json = false

    @Option(help: ArgumentHelp("The generation time to record (ISO 8601), for reproducible reruns.",
                               visibility: .hidden))
    var now: String?

    func run() throws {
        let started = Date()
        do {
            let options = try parsedOptions()
            let database = try LedgerDatabase.open(at: db)
            let lock = try StageLock(stage: "report", databasePath: db, now: options.generatedAt)
            defer { withExtendedLifetime(lock) {} }
            let result = try write(database, options)
            try summarise(result, options: options, started: started)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw reportFailure(error)
        }
    }

    struct Options {
        let period: ReportPeriod
        let formats: Set<ReportFormat>
        let generatedAt: Instant
        let baseName: String
    }

    func parsedOptions() throws -> Options {
        guard let period = ReportPeriod.parseMonth(self.period) else {
            throw ValidationError("--period must be a month such as 2026-11, not \(self.period)")
        }
        var formats: Set<ReportFormat> = []
        for name in format.split(separator: ",") {
            guard let format = ReportFormat(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--format takes xlsx and/or csv, not \(name)")
            }
            formats.insert(format)
        }
        guard !formats.isEmpty else { throw ValidationError("--format needs at least one of xlsx, csv") }
        let generatedAt: Instant
        if let now {
            guard case .success(let instant) = Instant.parse(now) else {
                throw ValidationError("--now must be ISO 8601 with an offset, not \(now)")
            }
            generatedAt = instant
        } else {
            generatedAt = Instant(Date())
        }
        return Options(period: period, formats: formats, generatedAt: generatedAt, baseName: baseName(period))
    }

    /// `credits-report-2026-11`, or with the organisations asked for: `credits-report-2026-11-org-a`.
    func baseName(_ period: ReportPeriod) -> String {
        let suffix = organisations.isEmpty ? "" : "-" + organisations.joined(separator: "+")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        return "credits-report-\(period.label)" + String(suffix.map { allowed.contains($0) ? $0 : "_" })
    }

    struct Result {
        let files: [URL]
        let report: PeriodReport
        let transactionCount: Int
    }

    /// Everything is read from one snapshot, and the files are written while it is held.
    func write(_ database: LedgerDatabase, _ options: Options) throws -> Result {
        try database.read { reader in
            let organisations = try PeriodReportQuery.organisations(
                reader, ids: self.organisations.isEmpty ? nil : self.organisations)
            let report = try PeriodReportQuery.report(
                reader, period: options.period, organisations: organisations, generatedAt: options.generatedAt)
            let details = try PeriodReportQuery.details(reader, period: options.period, organisations: organisations)
            let writer = PeriodReportWriter(baseName: options.baseName, formats: options.formats)
            let files = try writer.write(report, details: details, to: URL(fileURLWithPath: out, isDirectory: true))
            return Result(files: files, report: report, transactionCount: details.count)
        }
    }

    func summarise(_ result: Result, options: Options, started: Date) throws {
        let report = result.report
        let rows: [String: Int] = [
            "summary": report.summary.count, "byTeam": report.byTeam.count,
            "byInvestigation": report.byInvestigation.count, "byOperation": report.byOperation.count,
            "dailyTrend": report.dailyTrend.count, "unusualConsumption": report.unusualConsumption.count,
            "reconciliationExceptions": report.reconciliationExceptions.count,
            "transactions": result.transactionCount,
        ]
        if json {
            let summary: [String: Any] = [
                "stage": "report", "period": options.period.label,
                "organisations": report.summary.map(\.organisationID), "outputs": result.files.map(\.path),
                "rows": rows, "durationMs": Int(Date().timeIntervalSince(started) * 1000),
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if isatty(STDERR_FILENO) != 0 {
            let text = "credits report \(options.period.label): \(report.summary.count) organisation(s), "
                + "\(result.files.count) file(s) in \(out)\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}

/// Prints the failure on stderr and returns the exit code its class maps to (docs/ARCHITECTURE.md).
private func reportFailure(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("credits report: \(error)\n".utf8))
    guard let classified = error as? any ClassifiedError else { return ExitCode(70) }
    switch classified.failureClass {
    case .usage: return ExitCode(64)
    case .badData: return ExitCode(65)
    case .inputMissing: return ExitCode(66)
    case .internal: return ExitCode(70)
    case .io: return ExitCode(74)
    case .locked: return ExitCode(75)
    }
}
