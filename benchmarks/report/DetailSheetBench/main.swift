// The detail-sheet benchmark (issue 5): our writing path alone, against raw_xlsxwriter.c.
//
// Goal: time what `credits report` spends writing the Transactions sheet, without SQLite and the
// other sheets, next to libxlsxwriter alone writing the same cells. Method: an in-memory
// `TransferDetailStream` yields the rows raw_xlsxwriter.c writes (same ids, kinds, organisations,
// accounts, credits, costs, keys, teams, investigations, operations, instants and empty columns),
// and `PeriodReportWriter` writes them exactly as `credits report --format xlsx` does (an empty
// report, so the seven summary sheets are headers only; constant-memory mode). `--generate-only`
// runs the stream without writing, so its own cost can be subtracted.
//
//   report-detail-bench OUT_DIR ROWS [--generate-only]   -> OUT_DIR/detail-bench.xlsx
import Foundation
import Ledger
import Reports

let arguments = CommandLine.arguments
guard arguments.count == 3 || (arguments.count == 4 && arguments[3] == "--generate-only"),
      let rows = Int(arguments[2]), rows >= 0
else {
    FileHandle.standardError.write(Data("usage: report-detail-bench OUT_DIR ROWS [--generate-only]\n".utf8))
    exit(64)
}

/// The rows of raw_xlsxwriter.c: row `index` (0-based) is a deduction of organisation `index % 100`.
enum SyntheticDetail {
    static let organisationIDs = (0..<100).map { "org-" + digits($0, width: 3) }
    static let debitAccounts = organisationIDs.map { "org:" + $0 }
    static let teams = ["analysis", "cyber", "fraud", "intel", "forensics"]
    static let investigations = (0..<10).map { "op-\($0)" }
    static let operations = ["llm.completion", "transcription", "ocr", "embedding"]
    /// 2026-11-01T00:00:00Z: Excel serial 46327, as in raw_xlsxwriter.c.
    static let periodStartMilliseconds: Int64 = {
        let day = LocalDate(year: 2026, month: 11, day: 1)!.daysSinceEpoch
        precondition(day + 25_569 == 46_327, "raw_xlsxwriter.c starts at serial 46327")
        return Int64(day) * Instant.millisecondsPerDay
    }()

    static func row(_ index: Int) -> TransferDetail {
        let organisation = index % 100
        let eventID = "evt-" + organisationIDs[organisation] + "-" + digits(index / 100, width: 6)
        let seconds = Int64(index % 2_592_000)
        return TransferDetail(
            transferID: Int64(index + 1),
            postedAt: Instant(millisecondsSinceEpoch: periodStartMilliseconds + seconds * 1000),
            kind: .deduction, organisationID: organisationIDs[organisation],
            debitAccount: debitAccounts[organisation], creditAccount: "system:consumption",
            credits: Credits(microcredits: 500_000 + Int64(index % 495) * 100_000),
            cost: Money(minorUnits: Int64(index % 2000), currency: .gbp),
            idempotencyKey: "deduction:cost-event:" + eventID, costEventID: eventID,
            team: teams[index % 5], investigation: index % 7 == 0 ? nil : investigations[index % 10],
            operation: operations[index % 4])
    }

    /// `value` in decimal, zero-padded to at least `width` digits (`%03d`, `%06ld`).
    static func digits(_ value: Int, width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

let stream = TransferDetailStream(count: rows) { body in
    for index in 0..<rows { try body(SyntheticDetail.row(index)) }
}
let directory = URL(fileURLWithPath: arguments[1], isDirectory: true)
do {
    if arguments.count == 4 {
        var bytes = 0
        try stream.forEach { bytes &+= $0.idempotencyKey.utf8.count }
        print("generated \(rows) rows (\(bytes) key bytes)")
    } else {
        let period = ReportPeriod.month(year: 2026, month: 11)
        let generatedAt = Instant(millisecondsSinceEpoch: SyntheticDetail.periodStartMilliseconds
            + 30 * Instant.millisecondsPerDay)
        let report = PeriodReport(period: period, generatedAt: generatedAt, summary: [])
        let writer = PeriodReportWriter(baseName: "detail-bench", formats: [.xlsx])
        let files = try writer.write(report, details: stream, to: directory)
        print(files.map(\.path).joined(separator: "\n"))
    }
} catch {
    FileHandle.standardError.write(Data("report-detail-bench: \(error)\n".utf8))
    exit(74)
}
