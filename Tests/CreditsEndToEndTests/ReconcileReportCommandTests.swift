import Foundation
import Ledger
import Testing
import TestSupport

/// `credits reconcile --report DIR`, and the plan's exceptions in `credits report`.
@Suite("credits reconcile --report")
struct ReconcileReportCommandTests {
    /// Org a on a monthly plan from November 2026 (an allocation is due), with a top-up that no
    /// completed Revolut order explains (an exception).
    static func ledger(_ directory: TemporaryDirectory) throws -> String {
        var organisation = SampleWorld.organisation("a")
        organisation.planID = "basic"
        organisation.planStart = LocalDate(year: 2026, month: 11, day: 1)
        let database = try SampleWorld.ledger(
            in: directory, organisations: [organisation],
            plans: [SampleWorld.monthlyPlan("basic", credits: credits("1000"), priceMinorGBP: 4500)])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-a", organisationID: "a", source: .topUp, credits: credits("500"),
                price: Money(minorUnits: 2250, currency: .gbp), effectiveAt: instant("2026-11-10T10:00:00Z"),
                references: TransferReferences(revolutOrderID: "ord_ghost")))
        }
        return directory.file("ledger.sqlite")
    }

    static func csv(_ path: String) throws -> [[String]] {
        try #require(CSVReader.parse(try String(contentsOfFile: path, encoding: .utf8)))
    }

    @Test("writes the plan as reconciliation.xlsx and CSVs; credits report shows its exceptions")
    func writesReport() throws {
        let directory = TemporaryDirectory("reconcile-report")
        let db = try Self.ledger(directory)
        let out = directory.file("reconcile")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let run = try CreditsBinary.run(["reconcile", "--db", db, "--as-of", "2026-11-30", "--report", out, "--json",
                                         "--now", "2026-12-01T01:00:00Z"])
        #expect(run.exitCode == 3, "an exception for a person: \(run.stderr)")
        let result = try run.json()["result"] as? [String: Any]
        #expect((result?["reportFiles"] as? [String])?.count == 5)
        #expect(result?["digest"] is String, "the reconcile summary is still there")

        let proposed = try Self.csv(out + "/reconciliation-proposed-transfers.csv")
        // The allocation, then its expiry at the period end (the as-of instant), with what the dry run
        // found left of the grant.
        #expect(proposed.dropFirst().map { $0[1] } == ["allocation", "expiry"])
        #expect(proposed[2][4] == "1000" && proposed[2][7] == "allocation:a:2026-11")
        #expect(proposed[1].prefix(8) == ["0", "allocation", "a", "2026-11-01T00:00:00.000Z", "1000", "45.00", "GBP",
                                          "2026-11"])
        let exceptions = try Self.csv(out + "/reconciliation-exceptions.csv")
        #expect(exceptions.dropFirst().map { $0[2] } == ["topUpWithoutCompletedOrder"])
        let sheet = try XLSXFile(url: URL(fileURLWithPath: out + "/reconciliation.xlsx")).sheet("Exceptions")
        #expect(sheet["E2"]?.value == "ord_ghost")

        let reportOut = directory.file("report")
        try FileManager.default.createDirectory(atPath: reportOut, withIntermediateDirectories: true)
        let report = try CreditsBinary.run(["report", "--db", db, "--period", "2026-11", "--out", reportOut,
                                            "--format", "csv", "--now", "2026-12-01T02:00:00Z"])
        #expect(report.exitCode == 0, "\(report.stderr)")
        let rows = try Self.csv(reportOut + "/credits-report-2026-11-reconciliation-exceptions.csv")
        #expect(rows.dropFirst().map { [$0[0], $0[1], $0[3], $0[4]] }
            == [["a", "exception", "ord_ghost", "topUpWithoutCompletedOrder"]])
    }

    /// Goal (issue 15, rerun defects): reconcile run again for a night whose plan is applied (the
    /// nightly job rerun) used to store a fresh plan from the moved-on ledger: the usage charged into
    /// overdraft was gone from its findings and the balance quoted for usage beyond the limit was
    /// the one after the apply, so the Reconciliation exceptions sheets changed for the same inputs.
    @Test("a rerun after apply keeps the applied plan: same exceptions, same exit code, same report")
    func rerunAfterApply_keepsTheAppliedPlansFindings() throws {
        let directory = TemporaryDirectory("reconcile-rerun")
        let db = directory.file("ledger.sqlite")
        let database = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("a", overdraft: credits("500"))])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-a", organisationID: "a", source: .adjustment, credits: credits("100"),
                price: Money(minorUnits: 0, currency: .gbp), effectiveAt: instant("2026-11-01T10:00:00Z")))
        }
        // 100 credits granted: 300 go into overdraft (charged), 400 would pass the limit (not charged).
        let events = directory.file("events.jsonl")
        try [("e1", "400", "10"), ("e2", "400", "11")].map { id, amount, hour in
            #"{"event_id":"\#(id)","organisation_id":"a","team":"analysis","operation":"ocr","credits":"\#(amount)","occurred_at":"2026-11-02T\#(hour):00:00Z"}"#
        }.joined(separator: "\n").write(toFile: events, atomically: true, encoding: .utf8)
        func stage(_ arguments: String...) throws -> CreditsBinary.Result {
            try CreditsBinary.run(arguments + ["--db", db, "--now", "2026-11-03T00:00:00Z"])
        }
        #expect(try stage("ingest", "events", events).exitCode == 0)

        var runs: [(exitCode: Int32, exceptions: String, sheet: String)] = []
        for run in ["first", "rerun"] {
            let out = directory.file(run)
            try FileManager.default.createDirectory(atPath: out + "/report", withIntermediateDirectories: true)
            let reconcile = try stage("reconcile", "--as-of", "2026-11-02", "--report", out)
            #expect(try stage("apply", "--no-alerts").exitCode == 0)
            #expect(try stage("report", "--period", "2026-11", "--out", out + "/report", "--format", "csv").exitCode == 0)
            runs.append((
                reconcile.exitCode, try String(contentsOfFile: out + "/reconciliation-exceptions.csv", encoding: .utf8),
                try String(contentsOfFile: out + "/report/credits-report-2026-11-reconciliation-exceptions.csv",
                           encoding: .utf8)))
        }
        #expect(runs[0].exitCode == 3)
        #expect(runs[0].exceptions.contains("usageInOverdraft") && runs[0].exceptions.contains("usageBeyondOverdraftLimit"),
                "\(runs[0].exceptions)")
        #expect(runs[1].exitCode == runs[0].exitCode)
        #expect(runs[1].exceptions == runs[0].exceptions)
        #expect(runs[1].sheet == runs[0].sheet)
        #expect(try LedgerDatabase.open(at: db).read { try $0.latestPlan()?.id } == 1, "no second plan was stored")

        // A later input that posts is a new plan as before.
        try #"{"event_id":"e3","organisation_id":"a","team":"analysis","operation":"ocr","credits":"1","occurred_at":"2026-11-01T12:00:00Z"}"#
            .write(toFile: events, atomically: true, encoding: .utf8)
        #expect(try stage("ingest", "events", events).exitCode == 0)
        #expect(try stage("reconcile", "--as-of", "2026-11-02").exitCode == 3)
        #expect(try LedgerDatabase.open(at: db).read { try $0.latestPlan()?.id } == 2)
    }

    @Test("a missing --report directory exits 66 before any plan is stored")
    func missingDirectory() throws {
        let directory = TemporaryDirectory("reconcile-report")
        let db = try Self.ledger(directory)
        let run = try CreditsBinary.run(["reconcile", "--db", db, "--as-of", "2026-11-30", "--report",
                                         directory.file("none")])
        #expect(run.exitCode == 66, "\(run.stderr)")
        let database = try LedgerDatabase.open(at: db)
        #expect(try database.read { try $0.latestPlan() } == nil)
    }
}
