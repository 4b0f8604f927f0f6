import ArgumentParser
import Foundation
import Ledger
import Reports

/// `ledger audit`: an organisation's audit statement for a window, as XLSX and CSV, with its digest.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Write an organisation's audit statement (every movement with actor and reason) as XLSX and CSV.",
        discussion: """
            Opening balance, every transfer effective in the window (with who made it, why, and the balance \
            after it), closing balance, and a SHA-256 digest over all of it that a second run over the same \
            ledger reproduces (docs/LEDGER.md, "Audit statements"). Dates are days in the organisation's time \
            zone: --from 2026-11-01 --to 2026-12-01 is November.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The organisation.") var org: String
    @Option(name: .long, help: "From this date or instant (inclusive).") var from: String
    @Option(name: .long, help: "To this date or instant (exclusive).") var to: String
    @OptionGroup var output: ReportOutputOptions

    struct Summary: Encodable {
        let organisationID: String
        let from: Instant
        let to: Instant
        let opening: Credits
        let closing: Credits
        let movements: Int
        let digest: String
        let outputs: [String]
    }

    func run() throws {
        let formats = try output.formats()
        let start = try moment(from, option: "--from")
        let end = try moment(to, option: "--to")
        try Runner.run("ledger audit", options: options, lock: false) {
            let directory = try output.directory()
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let (statement, outputs) = try ledger.read { reader in
                let (from, to) = (try start.instant(for: org, reader), try end.instant(for: org, reader))
                guard from < to else { throw ValidationError("--from must be before --to") }
                let statement = try reader.auditStatement(of: org, from: from, to: to)
                return (statement, try AuditStatementWriter(formats: formats).write(statement, to: directory))
            }
            let summary = Summary(
                organisationID: org, from: statement.from, to: statement.to, opening: statement.opening,
                closing: statement.closing, movements: statement.entryCount, digest: statement.digest,
                outputs: outputs.map(\.path))
            return StageOutcome(summary: summary, human: [
                "audit \(org) \(statement.from.iso8601)..<\(statement.to.iso8601): opening \(statement.opening), "
                    + "\(statement.entryCount) movement(s), closing \(statement.closing)",
                "digest \(statement.digest)", "\(outputs.count) file(s) in \(output.out)",
            ])
        }
    }

    private func moment(_ text: String, option: String) throws -> BalanceMoment {
        if let date = LocalDate.parse(text) { return .startOf(date) }
        return .instant(try parseInstantArgument(text, option: option))
    }
}
