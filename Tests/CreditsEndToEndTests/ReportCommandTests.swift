import Foundation
import Ledger
import Testing
import TestSupport

/// Runs the built `credits` binary's `report` stage against a small ledger.
@Suite("credits report")
struct ReportCommandTests {
    static func run(_ arguments: [String]) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments)
    }

    /// A ledger with one organisation, an allocation and two deductions in November 2026.
    static func ledger(_ directory: TemporaryDirectory) throws -> String {
        let database = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a")])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "a", source: .allocation, credits: credits("1000"),
                price: Money(minorUnits: 4500, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z")))
            for (index, team) in ["=1+2", "analysis"].enumerated() {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "use-\(index)", organisationID: "a", credits: credits("12.5"),
                    effectiveAt: instant("2026-11-0\(index + 2)T10:00:00Z"), priority: .p1,
                    policy: .allowOverdraft(limit: .zero), references: TransferReferences(team: team)))
            }
        }
        return directory.file("ledger.sqlite")
    }

    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @Test("writes the workbook and CSVs, prints a JSON summary, and reruns byte-identically")
    func writesAndReruns() throws {
        let directory = TemporaryDirectory("report-cli")
        let db = try Self.ledger(directory)
        var csvs: [[String: Data]] = []
        for name in ["first", "second"] {
            let out = directory.file(name)
            try Self.makeDirectory(out)
            let run = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", out, "--json",
                                    "--now", "2026-12-01T02:00:00Z"])
            #expect(run.exitCode == 0, "\(run.stderr)")
            let envelope = try run.json()
            #expect(envelope["command"] as? String == "report" && envelope["exitCode"] as? Int == 0)
            let summary = envelope["result"] as? [String: Any]
            // Without --detail: the workbook and seven CSVs of sums, no transaction detail.
            #expect((summary?["outputs"] as? [String])?.count == 8)
            #expect((summary?["rows"] as? [String: Int])?["transactions"] == nil)
            #expect((summary?["rows"] as? [String: Int])?["byTeam"] == 2)
            let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            #expect(files.first == "credits-report-2026-11-by-investigation.csv")
            #expect(files.contains("credits-report-2026-11.xlsx"))
            #expect(!files.contains("credits-report-2026-11-transactions.csv"))
            #expect(try !XLSXFile(url: URL(fileURLWithPath: out + "/credits-report-2026-11.xlsx")).sheetNames
                .contains("Transactions"))
            var contents: [String: Data] = [:]
            for file in files where file.hasSuffix(".csv") {
                contents[file] = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
            }
            csvs.append(contents)
        }
        #expect(csvs[0] == csvs[1], "same ledger, period and clock: byte-identical CSV")
        try checkTieOut(String(decoding: csvs[0]["credits-report-2026-11-summary.csv"]!, as: UTF8.self),
                        workbook: directory.file("first/credits-report-2026-11.xlsx"))
        let teams = String(decoding: csvs[0]["credits-report-2026-11-by-team.csv"]!, as: UTF8.self)
        #expect(teams.contains("a,'=1+2,1,12.5,0.56,GBP,,,,,,,\r\n"), "no budget: its columns are empty")
    }

    @Test("--detail adds the Transactions sheet and CSV, one row per transfer, and changes no sum")
    func detailIsOptIn() throws {
        let directory = TemporaryDirectory("report-cli")
        let db = try Self.ledger(directory)
        var summaries: [Data] = []
        for (name, flags) in [("plain", [String]()), ("detailed", ["--detail"])] {
            let out = directory.file(name)
            try Self.makeDirectory(out)
            let run = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", out, "--json",
                                    "--now", "2026-12-01T02:00:00Z"] + flags)
            #expect(run.exitCode == 0, "\(run.stderr)")
            summaries.append(try Data(contentsOf: URL(fileURLWithPath: out + "/credits-report-2026-11-summary.csv")))
        }
        #expect(summaries[0] == summaries[1], "the detail is extra rows, never different figures")
        let out = directory.file("detailed")
        let run = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", out, "--json", "--detail",
                                "--now", "2026-12-01T02:00:00Z"])
        let result = try run.json()["result"] as? [String: Any]
        #expect((result?["outputs"] as? [String])?.count == 9)
        #expect((result?["rows"] as? [String: Int])?["transactions"] == 3)
        let csv = try String(contentsOfFile: out + "/credits-report-2026-11-transactions.csv", encoding: .utf8)
        let records = try #require(CSVReader.parse(csv))
        #expect(records.count == 4, "header and three transfers")
        // Each transfer with the balance around it and who made it (the audit trail's columns).
        #expect(Array(records[0].suffix(3)) == ["Balance before", "Balance after", "Actor"], "\(records[0])")
        #expect(records.dropFirst().allSatisfy { !$0.last!.isEmpty && !$0[$0.count - 2].isEmpty }, "\(records)")
        let workbook = try XLSXFile(url: URL(fileURLWithPath: out + "/credits-report-2026-11.xlsx"))
        #expect(workbook.sheetNames.last == "Transactions")
        #expect(try workbook.sheet("Transactions").lastRow == 4)
    }

    /// Opening + allocations + top-ups - consumption - expiries + reversals + adjustments = closing,
    /// from the exact CSV figures; and the workbook's Summary cells hold the same numbers.
    func checkTieOut(_ csv: String, workbook: String) throws {
        let records = try #require(CSVReader.parse(csv))
        let sheet = try XLSXFile(url: URL(fileURLWithPath: workbook)).sheet("Summary")
        for (index, record) in records.dropFirst().enumerated() {
            let currency = try #require(Currency(code: record[4]))
            // Columns: id, name, then (credits, money, currency) for each of the eight figures.
            let credits = (0..<8).map { try! Credits.parse(record[2 + 3 * $0]).get().microcredits }
            let money = (0..<8).map { try! Money.parse(major: record[3 + 3 * $0], currency: currency).get().minorUnits }
            for values in [credits, money] {
                #expect(values[0] + values[1] + values[2] - values[3] - values[4] + values[5] + values[6] == values[7])
            }
            let row = index + 2
            #expect(sheet["Q\(row)"]?.number == Double(credits[7]) / 1_000_000)
            #expect(sheet["R\(row)"]?.number == Double(money[7]) / 100)
        }
    }

    @Test("--out is created with its parents when missing; a file in the way exits 74")
    func outputDirectoryIsCreated() throws {
        let directory = TemporaryDirectory("report-cli")
        let db = try Self.ledger(directory)
        let nested = directory.file("reports/2026/11")
        let created = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", nested, "--format", "csv"])
        #expect(created.exitCode == 0, "\(created.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: nested).contains { $0.hasSuffix(".csv") })
        let blocker = directory.file("a-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let blocked = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", "\(blocker)/out"])
        #expect(blocked.exitCode == 74, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("\(blocker)/out"), "the error names the directory: \(blocked.stderr)")
    }

    @Test("exit codes: unknown organisation 66, bad period 64, no database 66")
    func exitCodes() throws {
        let directory = TemporaryDirectory("report-cli")
        let db = try Self.ledger(directory)
        let out = directory.file("out")
        try Self.makeDirectory(out)
        let unknown = try Self.run(["report", "--db", db, "--period", "2026-11", "--out", out, "--org", "zzz"])
        #expect(unknown.exitCode == 66, "\(unknown.stderr)")
        let badPeriod = try Self.run(["report", "--db", db, "--period", "2026-13", "--out", out])
        #expect(badPeriod.exitCode == 64, "\(badPeriod.stderr)")
        let noDatabase = try Self.run(["report", "--db", directory.file("nope.sqlite"), "--period", "2026-11",
                                       "--out", out])
        #expect(noDatabase.exitCode == 66, "\(noDatabase.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "no partial output")
    }
}
