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
        // On PostgreSQL the stage lock is the database's advisory lock, taken once connected.
        try Runner.run("init", options: options, lock: !options.store.isPostgres) {
            let configuration = try ConfigurationLoader.load(directory: config)
            let clock = try options.clock()
            let (created, change, digest) = switch options.store {
            case .sqlite(let path): try Self.initialise(path: path, configuration, clock: clock)
            case .postgres(let location): try Self.initialise(location, configuration, clock: clock, wait: options.wait)
            }
            // Said plainly: such an organisation accepts usage of any date (docs/INGEST.md, UsageStart).
            let unbounded = configuration.organisations
                .filter { $0.usageStart(earliest: configuration.issuer.usageEarliest) == nil }.map(\.id)
            let warnings = unbounded.isEmpty ? [] : [
                "warning: no usage start for \(unbounded.joined(separator: ", ")): usage of any date is accepted; "
                    + "set usage_start or plan_start in organisations.yaml, or usage_earliest in issuer.yaml",
            ]
            let database = options.store.description
            return StageOutcome(
                summary: Summary(database: database, created: created, configuration: change, digest: digest),
                human: [
                    "\(created ? "created" : "opened") \(database)",
                    "configuration \(change.changed ? "loaded" : "unchanged"): \(change.organisations) organisations, "
                        + "\(change.teams) teams, \(change.investigations) investigations, \(change.plans) plans, "
                        + "\(change.packages) packages, \(change.rateCardEntries) rates",
                    "ledger digest \(digest)",
                ] + warnings)
        }
    }

    private static func initialise(
        path: String, _ configuration: Configuration, clock: @escaping @Sendable () -> Instant
    ) throws -> (created: Bool, ConfigurationChange, digest: String) {
        let existed = FileManager.default.fileExists(atPath: path)
        let ledger = try LedgerDatabase.create(at: path, clock: clock)
        if existed {
            let problems = try ledger.quickCheck()
            guard problems == ["ok"] else {
                throw CorruptDatabase(path: path, problems: problems)
            }
        }
        let change = try ledger.write(as: .pipeline(.`init`)) { try $0.load(configuration) }
        return (!existed, change, try ledger.read { try $0.digest() })
    }

    private static func initialise(
        _ location: PostgresLocation, _ configuration: Configuration, clock: @escaping @Sendable () -> Instant,
        wait: Bool
    ) throws -> (created: Bool, ConfigurationChange, digest: String) {
        let (store, created) = try PostgresStore.create(at: location, clock: clock)
        defer { store.close() }
        try store.takeStageLock("init", wait: wait)
        let change = try store.load(configuration)
        return (created, change, try store.digest())
    }
}

struct CorruptDatabase: ClassifiedError {
    let path: String
    let problems: [String]
    var failureClass: FailureClass { .io }
    var description: String { "\(path): SQLite integrity check failed: \(problems.prefix(3).joined(separator: "; "))" }
}
