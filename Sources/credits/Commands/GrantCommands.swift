import ArgumentParser
import Foundation
import Ledger

/// `ledger grants`: an organisation's grants, with what is left of each and when it expires.
struct GrantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants", abstract: "List an organisation's grants (what funds its balance).")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The organisation.") var org: String

    func run() throws {
        try Runner.run("ledger grants", options: options, lock: false, humanToStdout: true) {
            let grants = try LedgerReadAccess.read(options, clock: try options.clock()) { reader in
                guard try reader.organisation(org) != nil else { throw PostingRejection.organisationNotFound(org) }
                return try reader.grants(of: org)
            }
            var table = [["grant", "source", "credits", "remaining", "expires", "cost", "transfer"]]
            for grant in grants {
                table.append([
                    "\(grant.id)", grant.source.rawValue, "\(grant.credits)", "\(grant.remaining)",
                    grant.expiresAt?.iso8601 ?? "never", grant.cost.description, "\(grant.transferID)",
                ])
            }
            return StageOutcome(summary: grants, human: TextTable.render(table, rightAligned: [0, 2, 3, 6]))
        }
    }
}

/// `ledger draws`: which grants funded an outflow, or which outflows drew on a grant.
struct DrawsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draws", abstract: "Show the grant draws of a transfer (--transfer) or of a grant (--grant).")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "An outflow's transfer id: the grants it drew from.") var transfer: Int64?
    @Option(name: .long, help: "A grant id: the outflows that drew on it.") var grant: Int64?

    func validate() throws {
        guard (transfer == nil) != (grant == nil) else { throw ValidationError("give exactly one of --transfer or --grant") }
    }

    func run() throws {
        try Runner.run("ledger draws", options: options, lock: false, humanToStdout: true) {
            let draws = try LedgerReadAccess.read(options, clock: try options.clock()) { reader in
                if let grant {
                    guard try reader.grant(id: grant) != nil else { throw PostingRejection.grantNotFound(grant) }
                    return try reader.draws(ofGrant: grant)
                }
                guard let transfer, try reader.transfer(id: transfer) != nil else {
                    throw TransferNotFound(id: transfer ?? 0)
                }
                return try reader.draws(ofTransfer: transfer)
            }
            var table = [["transfer", "grant", "credits", "cost"]]
            for draw in draws {
                table.append(["\(draw.transferID)", draw.grantID.map { "\($0)" } ?? "uncovered", "\(draw.credits)",
                              draw.cost.description])
            }
            return StageOutcome(summary: draws, human: TextTable.render(table, rightAligned: [0, 1, 2, 3]))
        }
    }
}

/// No transfer has this id (exit 66, as for a missing input).
struct TransferNotFound: ClassifiedError {
    let id: Int64
    var failureClass: FailureClass { .inputMissing }
    var description: String { "no transfer \(id)" }
}

/// Options every grant control shares: which grant, the key that makes it exactly once, who and why.
struct GrantControlOptions: ParsableArguments {
    @Option(name: .long, help: "The grant id (`ledger grants`).") var grant: Int64
    @Option(name: .long, help: "Idempotency key: the same key acts once; reusing it for anything else is refused.")
    var key: String
    @Option(name: .long, help: "Why (required), kept with the record.") var reason: String
    @Option(name: .long, help: "Who decides, recorded. Default: the login name running the command.")
    var actor: String?

    var controlActor: Actor { .operator(name: actor ?? OperatorName.login()) }
}

/// `ledger void-grant`: takes back what is left of one grant (a reversal, audited, exactly once).
struct VoidGrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void-grant", abstract: "Void what is left of one grant (audited, exactly once).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var control: GrantControlOptions

    func run() throws {
        try Runner.run("ledger void-grant", options: options, lock: !options.store.isPostgres) {
            let (posting, balance) = try LedgerWriteAccess.write(options, as: control.controlActor) { tx in
                let posting = try tx.voidGrant(grantID: control.grant, idempotencyKey: control.key, reason: control.reason)
                return (posting, try tx.reader.balance(of: posting.transfer.organisationID))
            }
            let transfer = posting.transfer
            return StageOutcome(
                summary: PostingSummary(status: posting.status, transfer: transfer, balance: BalanceView(balance)),
                human: ["\(posting.status.rawValue): transfer \(transfer.id) voided \(transfer.amount) credits of grant "
                        + "\(control.grant) for \(transfer.organisationID) by \(transfer.actor.storedText); "
                        + "available \(balance.available)"])
        }
    }
}

/// `ledger move-expiry`: moves one grant's expiry, later or earlier but never before now (audited).
struct MoveExpiryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move-expiry", abstract: "Move one grant's expiry (audited, exactly once; never before now).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var control: GrantControlOptions
    @Option(name: .long, help: "The new expiry: a date or instant, or `never`.") var to: String

    func run() throws {
        let expiresAt = to == "never" ? nil : try parseInstantArgument(to, option: "--to")
        // On PostgreSQL the transaction itself keeps a move and a draw from the grant apart (SERIALIZABLE).
        try Runner.run("ledger move-expiry", options: options, lock: !options.store.isPostgres) {
            let clock = try options.clock()
            let (move, status) = switch options.store {
            case .sqlite(let path):
                try LedgerDatabase.open(at: path, clock: clock).moveGrantExpiry(
                    grantID: control.grant, to: expiresAt, idempotencyKey: control.key, reason: control.reason,
                    by: control.controlActor)
            case .postgres(let location):
                try PostgresStore.using(location, clock: clock) {
                    try $0.moveGrantExpiry(
                        grantID: control.grant, to: expiresAt, idempotencyKey: control.key, reason: control.reason,
                        by: control.controlActor)
                }
            }
            return StageOutcome(
                summary: MoveSummary(status: status, move: move),
                human: ["\(status.rawValue): grant \(move.grantID) of \(move.organisationID) now expires "
                        + "\(move.to?.iso8601 ?? "never") (was \(move.from?.iso8601 ?? "never")), by "
                        + "\(move.actor.storedText): \(move.reason)"])
        }
    }

    struct MoveSummary: Encodable {
        let status: Posting.Status
        let move: GrantExpiryMove
    }
}
