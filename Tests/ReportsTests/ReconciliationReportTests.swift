import Foundation
import Ledger
import Reports
import Testing
import TestSupport

/// The reconcile plan as a report, and its exceptions in the period report.
@Suite("reconciliation report")
struct ReconciliationReportTests {
    static let findings = [
        StoredFinding(seq: 0, severity: .matched, code: .orderMatched, organisationID: "a", subject: "ord_1",
                      detail: "top-up 5000 credits"),
        StoredFinding(seq: 1, severity: .exception, code: .topUpWithoutCompletedOrder, organisationID: "a",
                      subject: "ord_9", detail: "=no completed order"),
        StoredFinding(seq: 2, severity: .aged, code: .orderPendingTooLong, organisationID: "b", subject: "ord_7",
                      detail: "pending 5 days"),
        StoredFinding(seq: 3, severity: .exception, code: .orderNotTied, organisationID: nil, subject: "ord_x",
                      detail: "no organisation in the order metadata"),
        StoredFinding(seq: 4, severity: .exception, code: .usageOnUnknownTeam, organisationID: "b",
                      subject: "evt-1", detail: "team zz is not configured"),
    ]

    /// A ledger holding one stored plan with the findings above.
    static func ledger(_ directory: TemporaryDirectory) throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("a"), SampleWorld.organisation("b")])
        _ = try ledger.write { tx in
            try tx.savePlan(asOf: instant("2026-12-01T00:00:00Z"), agedAfterDays: 3, ledgerPosition: 0,
                            digest: String(repeating: "a", count: 64), seal: String(repeating: "b", count: 64),
                            summary: "test", totals: [], findings: findings)
        }
        return ledger
    }

    static let proposed = [
        ProposedTransfer(seq: 0, kind: .allocation, organisationID: "a", effectiveAt: instant("2026-11-01T00:00:00Z"),
                         credits: credits("1000"), amount: Money(minorUnits: 4500, currency: .gbp),
                         reference: "2026-11", idempotencyKey: "allocation:a:2026-11"),
        ProposedTransfer(seq: 1, kind: .expiry, organisationID: "b", effectiveAt: instant("2026-11-30T00:00:00Z"),
                         credits: nil, amount: nil, reference: "grant-1", idempotencyKey: "expiry:grant-1"),
    ]

    @Test("four sheets and four CSVs, findings split by severity, deterministic")
    func writesSheets() throws {
        let directory = TemporaryDirectory("reconciliation-report")
        let ledger = try Self.ledger(directory)
        let plan = try #require(try ledger.read { try $0.latestPlan() })
        let report = ReconciliationReport(plan: plan, proposed: Self.proposed)
        #expect(report.matched.map(\.seq) == [0] && report.exceptions.map(\.seq) == [1, 3, 4])
        #expect(report.aged.map(\.seq) == [2])
        var csvs: [[String: Data]] = []
        for name in ["one", "two"] {
            let out = URL(fileURLWithPath: directory.file(name))
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let urls = try ReconciliationReportWriter().write(report, to: out)
            #expect(urls.map(\.lastPathComponent) == [
                "reconciliation.xlsx", "reconciliation-proposed-transfers.csv", "reconciliation-matched.csv",
                "reconciliation-exceptions.csv", "reconciliation-aged.csv",
            ])
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).count == 5, "no temporary files")
            var contents: [String: Data] = [:]
            for url in urls.dropFirst() { contents[url.lastPathComponent] = try Data(contentsOf: url) }
            csvs.append(contents)
        }
        #expect(csvs[0] == csvs[1], "byte-identical CSV")

        let workbook = try XLSXFile(url: URL(fileURLWithPath: directory.file("one/reconciliation.xlsx")))
        let sheet = try workbook.sheet("Proposed transfers")
        #expect(sheet["B2"]?.value == "allocation" && sheet["E2"]?.number == 1000 && sheet["F2"]?.number == 45)
        #expect(sheet["E3"] == nil, "an expiry's amount is decided when it posts")
        #expect(sheet["E4"]?.formula != nil && sheet["E4"]?.number == 1000, "totals row")
        let exceptions = try workbook.sheet("Exceptions")
        #expect(exceptions["C2"]?.value == "topUpWithoutCompletedOrder")
        #expect(exceptions["F2"]?.isText == true && exceptions["F2"]?.formula == nil, "text, never a formula")
        #expect(try workbook.sheet("Aged")["E2"]?.value == "ord_7")
        #expect(try workbook.sheet("Matched")["E2"]?.value == "ord_1")

        let csv = String(decoding: csvs[0]["reconciliation-exceptions.csv"]!, as: UTF8.self)
        let records = try #require(CSVReader.parse(csv))
        #expect(records[0] == ["Seq", "Severity", "Code", "Organisation ID", "Subject", "Detail"])
        #expect(records[1] == ["1", "exception", "topUpWithoutCompletedOrder", "a", "ord_9", "'=no completed order"])
        #expect(records.count == 4)
        let proposedCSV = String(decoding: csvs[0]["reconciliation-proposed-transfers.csv"]!, as: UTF8.self)
        #expect(proposedCSV.contains("0,allocation,a,2026-11-01T00:00:00.000Z,1000,45.00,GBP,2026-11,"))
    }

    @Test("the period report's Reconciliation exceptions sheet takes the latest plan's exceptions and aged items")
    func periodReportExceptions() throws {
        let directory = TemporaryDirectory("reconciliation-report")
        let ledger = try Self.ledger(directory)
        let (all, onlyB) = try ledger.read { reader in
            (try PeriodReportQuery.reconciliationExceptions(reader, organisationIDs: nil),
             try PeriodReportQuery.reconciliationExceptions(reader, organisationIDs: ["b"]))
        }
        #expect(all.map(\.reference) == ["ord_9", "ord_7", "ord_x", "evt-1"])
        #expect(all.map(\.severity) == [.exception, .aged, .exception, .exception])
        #expect(all.map(\.source.rawValue) == ["payments", "payments", "payments", "cost-events"])
        #expect(all.allSatisfy { $0.observedAt == instant("2026-12-01T00:00:00Z") })
        #expect(onlyB.map(\.reference) == ["ord_7", "evt-1"], "another organisation's findings stay out")

        let report = try ledger.read { reader in
            try PeriodReportQuery.report(
                reader, period: .month(year: 2026, month: 11), organisations: try reader.organisations(),
                generatedAt: instant("2026-12-01T02:00:00Z"), exceptions: all)
        }
        let out = URL(fileURLWithPath: directory.path)
        let urls = try PeriodReportWriter(baseName: "r", formats: [.csv]).write(report, details: nil, to: out)
        let csv = try String(contentsOf: try #require(urls.first { $0.lastPathComponent.contains("exceptions") }),
                             encoding: .utf8)
        let records = try #require(CSVReader.parse(csv))
        #expect(records.count == 5)
        #expect(records[1].prefix(6) == ["a", "exception", "payments", "ord_9", "topUpWithoutCompletedOrder",
                                         "'=no completed order"])
    }

    @Test("no plan yet: no exceptions")
    func noPlan() throws {
        let directory = TemporaryDirectory("reconciliation-report")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a")])
        #expect(try ledger.read { try PeriodReportQuery.reconciliationExceptions($0, organisationIDs: nil) }.isEmpty)
    }
}
