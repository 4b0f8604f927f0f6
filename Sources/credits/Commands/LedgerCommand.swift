import ArgumentParser
import Foundation
import Ledger

/// `credits ledger ...`: read the ledger, post administrative transfers, verify the invariants.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Balances, history, administrative transfers and verification.",
        subcommands: [
            BalanceCommand.self, HistoryCommand.self, GrantsCommand.self, DrawsCommand.self, AllocateCommand.self,
            TopUpCommand.self, AdjustCommand.self, VoidGrantCommand.self, MoveExpiryCommand.self, VoidEventCommand.self,
            AuditCommand.self, VerifyCommand.self,
        ])
}

/// One organisation's balance as printed by `ledger balance --json`.
struct BalanceView: Encodable {
    let organisationID: String
    let currency: String
    let available: Credits
    let reserved: Credits
    /// Spendable by work at each priority: P1..P4 and `none` (no investigation); never below zero.
    let spendable: [String: Credits]

    init(_ balance: Balance) {
        organisationID = balance.organisationID
        currency = balance.currency.code
        available = balance.available
        reserved = balance.reserved
        var spendable: [String: Credits] = [:]
        for priority in [Priority.p1, .p2, .p3, .p4, .unprioritised] {
            spendable[priority.description] = max(.zero, balance.spendable(for: priority))
        }
        self.spendable = spendable
    }
}

struct BalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Show balances.")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "Only this organisation.") var org: String?
    @Option(
        name: .customLong("as-of"),
        help: "The balance as it stood then: an instant, or a date (the end of that day in each organisation's time zone).")
    var asOf: String?

    func run() throws {
        let moment = try asOf.map { text -> BalanceMoment in
            if let date = LocalDate.parse(text) { return .endOf(date) }
            return .instant(try parseInstantArgument(text, option: "--as-of"))
        }
        try Runner.run("ledger balance", options: options, lock: false, humanToStdout: true) {
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let balances = try ledger.read { reader in
                let current = try org.map { [try reader.balance(of: $0)] } ?? reader.balances()
                guard let moment else { return current }
                return try current.map { balance in
                    try reader.balance(of: balance.organisationID, asOf: try moment.instant(for: balance.organisationID, reader))
                }
            }
            let views = balances.map(BalanceView.init)
            var table = [["organisation", "currency", "available", "reserved", "spendable P1", "spendable (none)"]]
            for view in views {
                table.append([view.organisationID, view.currency, "\(view.available)", "\(view.reserved)",
                              "\(view.spendable["P1"]!)", "\(view.spendable["none"]!)"])
            }
            return StageOutcome(summary: views, human: TextTable.render(table, rightAligned: [2, 3, 4, 5]))
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List an organisation's transfers.")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The organisation.") var org: String
    @Option(name: .long, help: "From this date or instant (inclusive).") var from: String?
    @Option(name: .long, help: "To this date or instant (exclusive).") var to: String?
    @Option(name: .long, help: "Only these kinds: allocation, top_up, deduction, expiry, reversal, adjustment.")
    var kind: [String] = []
    @Option(name: .long, help: "At most this many transfers.") var limit: Int = 1000

    func run() throws {
        let kinds = try Set(kind.map { name in
            guard let kind = TransferKind(rawValue: name) else { throw ValidationError("--kind \(name) is not a transfer kind") }
            return kind
        })
        let from = try from.map { try parseInstantArgument($0, option: "--from") }
        let to = try to.map { try parseInstantArgument($0, option: "--to") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        try Runner.run("ledger history", options: options, lock: false, humanToStdout: true) {
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let transfers = try ledger.read { reader in
                guard try reader.organisation(org) != nil else { throw PostingRejection.organisationNotFound(org) }
                return try reader.history(of: org, from: from, to: to, kinds: kinds, limit: limit)
            }
            var table = [["id", "effective", "kind", "credits", "before", "after", "money", "actor", "reference"]]
            for transfer in transfers {
                let change = transfer.signedAmount(for: org)
                let signed = change.isNegative ? "\(change)" : "+\(change)"
                let reference = [transfer.references.costEventID, transfer.references.revolutOrderID,
                                 transfer.references.planPeriod, transfer.references.memo].compactMap { $0 }.first ?? ""
                table.append(["\(transfer.id)", transfer.effectiveAt.iso8601, transfer.kind.rawValue, signed,
                              "\(transfer.balanceBefore)", "\(transfer.balanceAfter)", transfer.money.description,
                              transfer.actor.storedText, reference])
            }
            return StageOutcome(summary: transfers, human: TextTable.render(table, rightAligned: [0, 3, 4, 5]))
        }
    }
}

/// Options shared by the administrative postings.
struct PostingOptions: ParsableArguments {
    @Option(name: .long, help: "The organisation.") var org: String
    @Option(name: .long, help: "Credits, an exact decimal.") var credits: String
    @Option(name: .long, help: "Idempotency key: the same key posts once; reusing it with other values is refused.")
    var key: String
    @Option(name: .long, help: "Effective date or instant. Default: now.") var at: String?
    @Option(name: [.customLong("reason"), .customLong("memo")], help: "Why it is posted (required), kept with the transfer.")
    var memo: String?
    @Option(name: .long, help: "Who is posting, recorded on the transfer. Default: the login name running the command.")
    var actor: String?

    /// The operator the transfer names: `--actor`, else the login name (stated in the output).
    var postingActor: Actor { .operator(name: actor ?? OperatorName.login()) }

    func effectiveAt(_ options: GlobalOptions) throws -> Instant {
        try at.map { try parseInstantArgument($0, option: "--at") } ?? options.clock()()
    }
}

struct PostingSummary: Encodable {
    let status: String
    let transfer: Transfer
    let balance: BalanceView
}

/// Posts one administrator's transfer through the Ledger's `postAdmin`, the rule GraphQL's admin
/// mutations share (validation, idempotent retries), and prints it with the balance after it.
private func postAdmin(
    _ command: String, kind: AdminPostingRequest.Kind, posting: PostingOptions, options: GlobalOptions,
    price: String? = nil, expires: String? = nil, order: String? = nil
) throws {
    let amount = try parseCreditsArgument(posting.credits, option: "--credits")
    let expiresAt = try expires.map { try parseInstantArgument($0, option: "--expires") }
    try Runner.run(command, options: options) {
        let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
        let request = AdminPostingRequest(
            kind: kind, idempotencyKey: posting.key, organisationID: posting.org, credits: amount,
            price: price.map(AdminPostingRequest.Price.major), effectiveAt: try posting.effectiveAt(options),
            expiresAt: expiresAt, revolutOrderID: order, memo: posting.memo)
        let (result, balance) = try ledger.write(as: posting.postingActor) { tx in
            (try tx.postAdmin(request), try tx.reader.balance(of: posting.org))
        }
        let change = result.transfer.signedAmount(for: posting.org)
        return StageOutcome(
            summary: PostingSummary(status: result.status.rawValue, transfer: result.transfer, balance: BalanceView(balance)),
            human: ["\(result.status.rawValue): transfer \(result.transfer.id) \(change.isNegative ? "" : "+")\(change) credits "
                    + "for \(posting.org) by \(result.transfer.actor.storedText); available \(balance.available)"])
    }
}

struct AllocateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allocate", abstract: "Allocate credits (a grant).")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var posting: PostingOptions
    @Option(name: .long, help: "Expiry date or instant of the granted credits.") var expires: String?
    @Option(name: .long, help: "Price paid, in the organisation's currency (major units), as cost basis.") var price: String?

    func run() throws {
        try postAdmin("ledger allocate", kind: .allocation, posting: posting, options: options, price: price,
                      expires: expires)
    }
}

struct TopUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top-up", abstract: "Top up credits (a purchased grant).")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var posting: PostingOptions
    @Option(name: .long, help: "Price paid, in the organisation's currency (major units).") var price: String
    @Option(name: .long, help: "The Revolut order id that paid for it.") var order: String?
    @Option(name: .long, help: "Expiry date or instant of the credits.") var expires: String?

    func run() throws {
        try postAdmin("ledger top-up", kind: .topUp, posting: posting, options: options, price: price,
                      expires: expires, order: order)
    }
}

struct AdjustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjust", abstract: "Correct a balance with an adjustment (positive or negative credits).",
        discussion: "Write a negative amount with an equals sign: --credits=-25.5")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var posting: PostingOptions

    func run() throws {
        try postAdmin("ledger adjust", kind: .adjustment, posting: posting, options: options)
    }
}

/// `ledger void-event`: an operator's decision that a staged cost event must never be charged.
struct VoidEventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void-event", abstract: "Void a staged cost event so reconcile never charges it (audited).",
        discussion: """
            Records who, when and why, once: voiding the event again changes nothing and prints the first \
            record. A charged event cannot be voided; correct its charge with `ledger adjust`.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("event-id"), help: "The staged event's id.") var eventID: String
    @Option(name: .long, help: "Why it must never be charged (kept with the void).") var reason: String
    @Option(name: .long, help: "Who decided. Default: the login name running the command.") var by: String?

    func validate() throws {
        guard !eventID.isEmpty else { throw ValidationError("--event-id must not be empty") }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--reason is required: say why the event must never be charged")
        }
    }

    func run() throws {
        let actor = Actor.operator(name: by ?? OperatorName.login())
        try Runner.run("ledger void-event", options: options) {
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let result = try ledger.write(as: actor) { tx in
                try tx.voidCostEvent(eventID: eventID, actor: actor.storedText, reason: reason)
            }
            let void = result.void
            let verb = result.status == .voided ? "voided" : "already voided"
            return StageOutcome(
                summary: VoidSummary(status: result.status.rawValue, void: void),
                human: ["\(verb): cost event \(void.eventID) of \(void.organisationID) (\(void.credits) credits) "
                        + "at \(void.voidedAt.iso8601) by \(void.actor): \(void.reason)"])
        }
    }
}

struct VoidSummary: Encodable {
    let status: String
    let void: CostEventVoid
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every ledger invariant and print the ledger digest (exit 70 if an invariant is broken).")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try Runner.run("ledger verify", options: options, lock: false, humanToStdout: true) {
            let ledger = try LedgerDatabase.open(at: options.db, clock: try options.clock())
            let integrity = try ledger.quickCheck()
            guard integrity == ["ok"] else { throw CorruptDatabase(path: options.db, problems: integrity) }
            let report = try ledger.read { try $0.verify() }
            var lines = report.checks.map { "\($0.passed ? "ok  " : "FAIL") \($0.name)\($0.passed ? "" : ": \($0.detail)")" }
            lines.append("\(report.transfers) transfers, \(report.accounts) accounts, \(report.grants) grants")
            lines.append("digest \(report.digest)")
            guard report.passed else { throw InvariantBroken(report: report, lines: lines) }
            return StageOutcome(summary: report, human: lines)
        }
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
