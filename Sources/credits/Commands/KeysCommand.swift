import ArgumentParser
import Foundation
import Ledger
import Service

/// `credits keys create --org ID | --admin`: issues an API key for the live service.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "API keys of the live service.", subcommands: [CreateKeyCommand.self])
}

struct CreateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key; it is printed once and stored only as its SHA-256.")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The organisation the key speaks for.") var org: String?
    @Flag(name: .long, help: "A platform-admin key (every organisation, admin mutations).") var admin = false
    @Option(name: .long, help: "A note to recognise the key by.") var label = ""

    struct Summary: Encodable {
        let key: String
        /// The key's public id, which audit rows name as `key:<id>` (`APIKeyHash.id`).
        let keyID: String
        let organisationID: String?
        let admin: Bool
    }

    func validate() throws {
        guard (org != nil) != admin else { throw ValidationError("give exactly one of --org ID or --admin") }
    }

    func run() throws {
        try Runner.run("keys create", options: options, lock: false, humanToStdout: true) {
            let clock = try options.clock()
            let actor = Actor.operator(name: OperatorName.login())
            let key = switch options.store {
            case .sqlite(let path):
                try LedgerAPIKeyStore.issue(
                    in: LedgerDatabase.open(at: path, clock: clock), organisationID: org, label: label, by: actor)
            case .postgres(let location):
                // One insert in one transaction; no stage lock (keys are independent rows).
                try PostgresStore.using(location, clock: clock) {
                    try LedgerAPIKeyStore.issue(in: $0, organisationID: org, label: label, by: actor)
                }
            }
            let owner = org.map { "organisation \($0)" } ?? "platform admin"
            guard let keyID = APIKey.hash(presented: key)?.id else { preconditionFailure("issued keys are well formed") }
            // With --json the key is in the summary on stdout and nowhere else: stderr often ends up
            // in a log file or a CI transcript, where a secret must not.
            let note = "(API key \(keyID) for \(owner); shown once, stored only as its SHA-256)"
            return StageOutcome(
                summary: Summary(key: key, keyID: keyID, organisationID: org, admin: admin),
                human: options.json ? [note] : [key, note])
        }
    }
}
