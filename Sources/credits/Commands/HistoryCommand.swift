import ArgumentParser
import Foundation
import Ledger

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
            let transfers = try LedgerReadAccess.read(options, clock: try options.clock()) { reader in
                guard try reader.organisation(org) != nil else { throw PostingRejection.organisationNotFound(org) }
                return try reader.history(
                    of: org, from: from, to: to, kinds: kinds, afterID: nil, limit: limit, money: .asPosted)
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
