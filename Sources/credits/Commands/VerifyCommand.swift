import ArgumentParser
import Foundation
import Ledger

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every ledger invariant and print the ledger digest (exit 70 if an invariant is broken).",
        discussion: "Runs on SQLite and on PostgreSQL (--db postgres://...); a ledger has the same digest on both.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        guard case .postgres(let location) = options.store else {
            try Runner.run("ledger verify", options: options, lock: false, humanToStdout: true) {
                let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
                let verification = try ledger.verify()
                guard let report = verification.report else {
                    throw CorruptDatabase(path: options.db, problems: verification.integrity)
                }
                return try Self.outcome(report)
            }
            return
        }
        try await Runner.runAsync("ledger verify", json: options.json, humanToStdout: true) {
            let ledger = try await PostgresLedger.open(at: location)
            do {
                let report = try await ledger.verify()
                await ledger.close()
                return try Self.outcome(report)
            } catch {
                await ledger.close()
                throw error
            }
        }
    }

    private static func outcome(_ report: VerificationReport) throws -> StageOutcome<VerificationReport> {
        var lines = report.checks.map { "\($0.passed ? "ok  " : "FAIL") \($0.name)\($0.passed ? "" : ": \($0.detail)")" }
        lines.append("\(report.transfers) transfers, \(report.accounts) accounts, \(report.grants) grants")
        lines.append("digest \(report.digest)")
        guard report.passed else { throw InvariantBroken(report: report, lines: lines) }
        return StageOutcome(summary: report, human: lines)
    }
}

/// `verify` found a broken invariant: a bug or tampering, reported as an internal error (70).
struct InvariantBroken: ClassifiedError {
    let report: VerificationReport
    let lines: [String]
    var failureClass: FailureClass { .internal }
    var description: String {
        let broken = report.checks.filter { !$0.passed }.map { "\($0.name) (\($0.detail))" }
        return "ledger invariants broken: \(broken.joined(separator: "; "))\n" + lines.joined(separator: "\n")
    }
}
