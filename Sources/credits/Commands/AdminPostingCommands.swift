import ArgumentParser
import Foundation
import Ledger

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
    let status: Posting.Status
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
    // On PostgreSQL the organisation's row lock keeps concurrent postings apart, not a stage lock.
    try Runner.run(command, options: options, lock: !options.store.isPostgres) {
        let request = AdminPostingRequest(
            kind: kind, idempotencyKey: posting.key, organisationID: posting.org, credits: amount,
            price: price.map(AdminPostingRequest.Price.major), effectiveAt: try posting.effectiveAt(options),
            expiresAt: expiresAt, revolutOrderID: order, memo: posting.memo)
        let (result, balance) = try LedgerWriteAccess.write(options, as: posting.postingActor) { tx in
            (try tx.postAdmin(request), try tx.reader.balance(of: posting.org))
        }
        let change = result.transfer.signedAmount(for: posting.org)
        return StageOutcome(
            summary: PostingSummary(status: result.status, transfer: result.transfer, balance: BalanceView(balance)),
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
