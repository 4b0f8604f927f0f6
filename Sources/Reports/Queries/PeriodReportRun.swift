import Foundation
import Ledger

/// One run of `credits report`: which organisations, what the files are called, and the report built
/// from one snapshot of the ledger and written while that snapshot is held (so the streamed
/// per-transfer detail, with `detail`, agrees with its count). The executable only parses its
/// arguments into this and prints the summary.
public struct PeriodReportRun: Sendable {
    public var period: ReportPeriod
    /// The organisations asked for; empty means every organisation.
    public var organisationIDs: [String]
    public var formats: Set<ReportFormat>
    /// Also write the Transactions sheet and CSV (every transfer of the period).
    public var detail: Bool
    public var generatedAt: Instant

    public init(
        period: ReportPeriod, organisationIDs: [String], formats: Set<ReportFormat>, detail: Bool, generatedAt: Instant
    ) {
        self.period = period
        self.organisationIDs = organisationIDs
        self.formats = formats
        self.detail = detail
        self.generatedAt = generatedAt
    }

    /// What the run wrote, for the stage's `--json` summary.
    public struct Summary: Encodable, Sendable {
        public let period: String
        public let organisations: [String]
        public let outputs: [String]
        public let rows: [String: Int]
    }

    /// `credits-report-2026-11`, or with the organisations asked for: `credits-report-2026-11-org-a`
    /// (characters outside a safe file-name set become `_`).
    public var baseName: String {
        let suffix = organisationIDs.isEmpty ? "" : "-" + organisationIDs.joined(separator: "+")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        return "credits-report-\(period.label)" + String(suffix.map { allowed.contains($0) ? $0 : "_" })
    }

    /// Builds the report from `reader`'s snapshot and writes its files into `directory`.
    public func write(_ reader: any LedgerReads, to directory: URL) throws -> Summary {
        let asked = organisationIDs.isEmpty ? nil : organisationIDs
        let organisations = try PeriodReportQuery.organisations(reader, ids: asked)
        let exceptions = try PeriodReportQuery.reconciliationExceptions(
            reader, organisationIDs: asked == nil ? nil : organisations.map(\.id))
        let report = try PeriodReportQuery.report(
            reader, period: period, organisations: organisations, generatedAt: generatedAt, exceptions: exceptions)
        let details = detail ? try PeriodReportQuery.details(reader, period: period, organisations: organisations) : nil
        let writer = PeriodReportWriter(baseName: baseName, formats: formats)
        let files = try writer.write(report, details: details, to: directory)
        var rows = [
            "summary": report.summary.count, "byTeam": report.byTeam.count,
            "byInvestigation": report.byInvestigation.count, "byOperation": report.byOperation.count,
            "dailyTrend": report.dailyTrend.count, "unusualConsumption": report.unusualConsumption.count,
            "reconciliationExceptions": report.reconciliationExceptions.count,
        ]
        if let details { rows["transactions"] = details.count }
        return Summary(
            period: period.label, organisations: organisations.map(\.id), outputs: files.map(\.path), rows: rows)
    }
}
