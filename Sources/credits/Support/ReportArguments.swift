import ArgumentParser
import Foundation
import Ledger
import Reports

/// `--period YYYY-MM`, shared by `report` and `invoice`.
func parseReportPeriod(_ text: String) throws -> ReportPeriod {
    guard let period = ReportPeriod.parseMonth(text) else {
        throw ValidationError("--period must be a month such as 2026-11, not \(text)")
    }
    return period
}

/// `--format xlsx,csv`, shared by the commands that write reports.
func parseReportFormats(_ text: String) throws -> Set<ReportFormat> {
    var formats: Set<ReportFormat> = []
    for name in text.split(separator: ",") {
        guard let format = ReportFormat(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw ValidationError("--format takes xlsx and/or csv, not \(name)")
        }
        formats.insert(format)
    }
    guard !formats.isEmpty else { throw ValidationError("--format needs at least one of xlsx, csv") }
    return formats
}

/// Where a command that writes reports writes, and in which formats: `--out DIR --format xlsx,csv`,
/// shared by `report`, `invoice` and `ledger audit`.
struct ReportOutputOptions: ParsableArguments {
    @Option(name: .long, help: "The directory to write into (created when missing).")
    var out: String

    @Option(name: .long, help: "Comma-separated output formats: xlsx, csv.")
    var format = "xlsx,csv"

    func formats() throws -> Set<ReportFormat> { try parseReportFormats(format) }

    /// The output directory, created when missing (exit 74 when it cannot be).
    func directory() throws -> URL {
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        try OutputDirectory.create(directory)
        return directory
    }
}
