import ArgumentParser
import Foundation
import Ledger

/// `credits init --config DIR`: creates or migrates the database and loads the configuration.
/// Idempotent: a second run with the same configuration changes nothing.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create or migrate the ledger database and load the configuration.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Directory with issuer.yaml, organisations.yaml, plans.yaml, packages.yaml, rate_cards.yaml.")
    var config: String

    struct Summary: Encodable {
        let database: String
        let created: Bool
        let configuration: ConfigurationChange
        let digest: String
    }

    func run() throws {
        try Runner.run("init", options: options) {
            let configuration = try ConfigurationLoader.load(directory: config)
            let existed = FileManager.default.fileExists(atPath: options.db)
            let ledger = try LedgerDatabase.create(at: options.db, clock: try options.clock())
            if existed {
                let problems = try ledger.quickCheck()
                guard problems == ["ok"] else {
                    throw CorruptDatabase(path: options.db, problems: problems)
                }
            }
            let change = try ledger.write(as: .pipeline(.`init`)) { try $0.load(configuration) }
            let digest = try ledger.read { try $0.digest() }
            // Said plainly: such an organisation accepts usage of any date (docs/INGEST.md, UsageStart).
            let unbounded = configuration.organisations
                .filter { $0.usageStart(earliest: configuration.issuer.usageEarliest) == nil }.map(\.id)
            let warnings = unbounded.isEmpty ? [] : [
                "warning: no usage start for \(unbounded.joined(separator: ", ")): usage of any date is accepted; "
                    + "set usage_start or plan_start in organisations.yaml, or usage_earliest in issuer.yaml",
            ]
            return StageOutcome(
                summary: Summary(database: options.db, created: !existed, configuration: change, digest: digest),
                human: [
                    "\(existed ? "opened" : "created") \(options.db)",
                    "configuration \(change.changed ? "loaded" : "unchanged"): \(change.organisations) organisations, "
                        + "\(change.teams) teams, \(change.investigations) investigations, \(change.plans) plans, "
                        + "\(change.packages) packages, \(change.rateCardEntries) rates",
                    "ledger digest \(digest)",
                ] + warnings)
        }
    }
}

struct CorruptDatabase: ClassifiedError {
    let path: String
    let problems: [String]
    var failureClass: FailureClass { .io }
    var description: String { "\(path): SQLite integrity check failed: \(problems.prefix(3).joined(separator: "; "))" }
}
