import ArgumentParser
import Foundation
import Ledger
import Reports

/// `credits invoice`: one numbered invoice per organisation and period, as XLSX and CSV.
struct InvoiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice",
        abstract: "Issue the period's invoices (numbered in the ledger) and write them as XLSX and CSV.",
        discussion: """
            Numbers are unique and gap-free per issuer, taken in the ledger transaction that records the
            invoice. Rerunning for the same period rewrites the same invoices (same numbers, same lines);
            exit 3 when the ledger now bills different lines than an issued invoice (raise a credit note).
            Organisations with nothing to bill get no invoice. --out is created when missing (exit 74 when it
            cannot be).
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The period, a calendar month: YYYY-MM.")
    var period: String

    @Option(name: .customLong("org"), help: "An organisation id; repeat for several. Default: every organisation.")
    var organisations: [String] = []

    @OptionGroup var output: ReportOutputOptions

    @Option(name: .long, help: "The issue date of new invoices (YYYY-MM-DD). Default: the period's last day.")
    var issueDate: String?

    struct Summary: Encodable {
        struct Issued: Encodable {
            let organisation: String
            let number: String
            let newlyIssued: Bool
            let differsFromLedger: Bool
            let currency: String
            let subtotal: String
            let tax: String
            let total: String
        }

        let period: String
        let invoices: [Issued]
        let nothingToBill: [String]
        let outputs: [String]
    }

    func run() throws {
        let period = try parseReportPeriod(period)
        let formats = try output.formats()
        let issueDate = try self.issueDate.map { text in
            guard let date = LocalDate.parse(text) else {
                throw ValidationError("--issue-date \(text): not a date YYYY-MM-DD")
            }
            return date
        }
        // On PostgreSQL the stage lock is the database's advisory lock, taken once connected.
        try Runner.run("invoice", options: options, lock: !options.store.isPostgres) {
            // Before the ledger changes: a bad --out must leave no numbered invoice behind.
            let directory = try output.directory()
            try OutputDirectory.checkWritable(directory)
            let clock = try options.clock()
            let asked = organisations.isEmpty ? nil : organisations
            let issuing = switch options.store {
            case .sqlite(let path):
                try InvoiceIssuing.issue(
                    LedgerDatabase.open(at: path, clock: clock), period: period, organisationIDs: asked,
                    issueDate: issueDate)
            case .postgres(let location):
                try PostgresStore.using(location, clock: clock, stageLock: "invoice", wait: options.wait) { store in
                    try store.invoicing { tx in
                        try InvoiceIssuing.issue(in: tx, period: period, organisationIDs: asked, issueDate: issueDate)
                    }
                }
            }
            CrashPoint.hit("invoice.afterCommit")
            var outputs: [URL] = []
            for issued in issuing.invoices {
                outputs += try InvoiceWriter(formats: formats).write(issued.invoice, to: directory)
                CrashPoint.hit("invoice.afterFiles")
            }
            return stageOutcome(issuing, period: period, outputs: outputs)
        }
    }

    private func stageOutcome(
        _ outcome: InvoiceIssuing.Outcome, period: ReportPeriod, outputs: [URL]
    ) -> StageOutcome<Summary> {
        let issued = outcome.invoices.map { item in
            Summary.Issued(
                organisation: item.organisationID, number: item.invoice.number, newlyIssued: item.newlyIssued,
                differsFromLedger: item.differsFromLedger, currency: item.invoice.currency.code,
                subtotal: item.invoice.subtotal.amountText, tax: item.invoice.tax.amountText,
                total: item.invoice.total.amountText)
        }
        var lines = ["invoice \(period.label): \(issued.filter(\.newlyIssued).count) issued, "
            + "\(issued.filter { !$0.newlyIssued }.count) already issued, \(outcome.nothingToBill.count) with nothing "
            + "to bill, \(outputs.count) file(s) in \(output.out)"]
        for item in issued {
            lines.append("  \(item.number) \(item.organisation) \(item.total) \(item.currency)"
                + (item.newlyIssued ? "" : " (reissued)"))
            if item.differsFromLedger {
                lines.append("    the ledger now bills different lines for \(period.label): raise a credit note")
            }
        }
        return StageOutcome(
            summary: Summary(period: period.label, invoices: issued, nothingToBill: outcome.nothingToBill,
                             outputs: outputs.map(\.path)),
            human: lines, needsReview: issued.contains(where: \.differsFromLedger))
    }
}
