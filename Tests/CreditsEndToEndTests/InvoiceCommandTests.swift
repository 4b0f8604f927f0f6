import Foundation
import Ledger
import Testing
import TestSupport

/// Runs the built `credits` binary's `invoice` stage, including a `kill -9` after numbering.
@Suite("credits invoice")
struct InvoiceCommandTests {
    /// Two organisations with a package each in November 2026.
    static func ledger(_ directory: TemporaryDirectory) throws -> String {
        let database = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("a"), SampleWorld.organisation("b")])
        try database.write { tx in
            for (index, organisation) in ["a", "b"].enumerated() {
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "top-\(organisation)", organisationID: organisation, source: .topUp,
                    credits: credits("1000"), price: Money(minorUnits: 4500 + Int64(index), currency: .gbp),
                    effectiveAt: instant("2026-11-1\(index)T10:00:00Z"),
                    references: TransferReferences(revolutOrderID: "ord_\(organisation)")))
            }
        }
        return directory.file("ledger.sqlite")
    }

    static func makeDirectory(_ path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func contents(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return files
    }

    static func invoice(_ db: String, out: String, environment: [String: String] = [:]) throws -> CreditsBinary.Result {
        try CreditsBinary.run(["invoice", "--db", db, "--period", "2026-11", "--out", out, "--json",
                               "--now", "2026-12-01T02:00:00Z"], environment: environment)
    }

    @Test("issues consecutive numbers, writes XLSX and CSV, and a rerun rewrites byte-identical CSV")
    func issuesAndReruns() throws {
        let directory = TemporaryDirectory("invoice-cli")
        let db = try Self.ledger(directory)
        let first = try Self.makeDirectory(directory.file("first"))
        let run = try Self.invoice(db, out: first)
        #expect(run.exitCode == 0, "\(run.stderr)")
        let result = try run.json()["result"] as? [String: Any]
        let invoices = result?["invoices"] as? [[String: Any]] ?? []
        #expect(invoices.compactMap { $0["number"] as? String } == ["CR-000001", "CR-000002"])
        #expect(invoices.compactMap { $0["total"] as? String } == ["54.00", "54.01"])
        let files = try Self.contents(first)
        #expect(files.keys.sorted() == [
            "invoice-CR-000001-appendix.csv", "invoice-CR-000001.csv", "invoice-CR-000001.xlsx",
            "invoice-CR-000002-appendix.csv", "invoice-CR-000002.csv", "invoice-CR-000002.xlsx",
        ])
        let sheet = try XLSXFile(url: URL(fileURLWithPath: first + "/invoice-CR-000002.xlsx")).sheet("Invoice")
        #expect(sheet.cells.values.contains { $0.formula != nil && $0.number == 54.01 })

        let second = try Self.makeDirectory(directory.file("second"))
        let rerun = try Self.invoice(db, out: second)
        #expect(rerun.exitCode == 0, "\(rerun.stderr)")
        let reissued = (try rerun.json()["result"] as? [String: Any])?["invoices"] as? [[String: Any]] ?? []
        #expect(reissued.compactMap { $0["newlyIssued"] as? Bool } == [false, false])
        let again = try Self.contents(second)
        for (name, data) in files where name.hasSuffix(".csv") { #expect(again[name] == data, "\(name)") }
        for sheet in ["Invoice", "Appendix"] {
            let cells = { (directory: String) in
                try XLSXFile(url: URL(fileURLWithPath: directory + "/invoice-CR-000001.xlsx")).sheet(sheet).cells
            }
            #expect(try cells(first) == cells(second), "identical XLSX cell contents (I16)")
        }
    }

    @Test("kill -9 after the numbering commit: no files; the rerun writes the same numbers")
    func crashAfterCommit() throws {
        let directory = TemporaryDirectory("invoice-cli")
        let db = try Self.ledger(directory)
        let out = try Self.makeDirectory(directory.file("out"))
        let killed = try Self.invoice(db, out: out, environment: ["CREDITS_CRASH_AT": "invoice.afterCommit"])
        #expect(killed.exitCode == SIGKILL, "terminated by SIGKILL: \(killed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)

        let killedMidway = try Self.invoice(db, out: out, environment: ["CREDITS_CRASH_AT": "invoice.afterFiles:1"])
        #expect(killedMidway.exitCode == SIGKILL)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 3, "only the first invoice's files")

        let rerun = try Self.invoice(db, out: out)
        #expect(rerun.exitCode == 0, "\(rerun.stderr)")
        let invoices = (try rerun.json()["result"] as? [String: Any])?["invoices"] as? [[String: Any]] ?? []
        #expect(invoices.compactMap { $0["number"] as? String } == ["CR-000001", "CR-000002"])
        #expect(invoices.compactMap { $0["newlyIssued"] as? Bool } == [false, false])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 6)
    }

    @Test("a missing --out is created; one that cannot be exits 74 and takes no number; a bad period is a usage error")
    func outputFaults() throws {
        let directory = TemporaryDirectory("invoice-cli")
        let db = try Self.ledger(directory)
        let blocker = directory.file("a-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let blocked = try Self.invoice(db, out: "\(blocker)/invoices")
        #expect(blocked.exitCode == 74, "\(blocked.stderr)")
        let database = try LedgerDatabase.open(at: db)
        #expect(try database.read { try $0.invoices(issuerID: "credits-ltd") }.isEmpty, "ledger unchanged")
        let nested = directory.file("invoices/2026-11")
        let created = try Self.invoice(db, out: nested)
        #expect(created.exitCode == 0 || created.exitCode == 3, "\(created.stderr)")
        #expect(try !FileManager.default.contentsOfDirectory(atPath: nested).isEmpty)
        let badPeriod = try CreditsBinary.run(["invoice", "--db", db, "--period", "2026-13", "--out", directory.path])
        #expect(badPeriod.exitCode == 64, "\(badPeriod.stderr)")
    }

    /// A directory that exists but takes no files, even for root (the tests run as root, so a
    /// chmod would not do): the kernel's own `/sys/kernel`.
    @Test("an unwritable output directory exits 74 and takes no number", .enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel")))
    func unwritableDirectory() throws {
        let directory = TemporaryDirectory("invoice-cli")
        let db = try Self.ledger(directory)
        let result = try Self.invoice(db, out: "/sys/kernel")
        #expect(result.exitCode == 74, "\(result.stderr)")
        #expect(result.stderr.contains("/sys/kernel"), "the error names the directory: \(result.stderr)")
        let database = try LedgerDatabase.open(at: db)
        #expect(try database.read { try $0.invoices(issuerID: "credits-ltd") }.isEmpty, "no invoice number was taken")
        let report = try CreditsBinary.run(
            ["report", "--db", db, "--period", "2026-11", "--out", "/sys/kernel", "--format", "xlsx,csv"])
        #expect(report.exitCode == 74, "\(report.stderr)")
    }
}
