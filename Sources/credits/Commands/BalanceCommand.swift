import ArgumentParser
import Foundation
import Ledger

/// One organisation's balance as printed by `ledger balance --json`.
struct BalanceView: Encodable {
    let organisationID: String
    let currency: String
    let available: Credits
    let reserved: Credits
    /// Credits promised to open holds (now; zero for a balance `--as-of` a past instant).
    let held: Credits
    /// Spendable by work at each priority: P1..P4 and `none` (no investigation), less what open holds
    /// promise; never below zero.
    let spendable: [String: Credits]

    init(_ balance: Balance) {
        organisationID = balance.organisationID
        currency = balance.currency.code
        available = balance.available
        reserved = balance.reserved
        held = balance.held
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
    @Option(
        name: .long,
        help: "Instead of balances, consumption per team or investigation (every deduction effective by --as-of, or now).")
    var by: ConsumptionBy?

    enum ConsumptionBy: String, ExpressibleByArgument, CaseIterable {
        case team, investigation

        var dimension: ConsumptionDimension {
            switch self {
            case .team: .team
            case .investigation: .investigation
            }
        }
    }

    /// One team's or investigation's consumption as `ledger balance --by` prints it.
    struct ConsumptionView: Encodable {
        let organisationID: String
        let asOf: Instant
        let by: String
        let key: String
        let deductions: Int64
        let credits: Credits
        let money: Money
    }

    func run() throws {
        let moment = try asOf.map { text -> BalanceMoment in
            if let date = LocalDate.parse(text) { return .endOf(date) }
            return .instant(try parseInstantArgument(text, option: "--as-of"))
        }
        if let by {
            return try consumption(by: by, moment: moment)
        }
        try Runner.run("ledger balance", options: options, lock: false, humanToStdout: true) {
            let clock = try options.clock()
            let now = clock()
            let balances = try LedgerReadAccess.read(options, clock: clock) { reader in
                let stored = try org.map { [try reader.balance(of: $0)] } ?? reader.balances()
                guard let moment else {
                    return try stored.map { $0.holding(try reader.heldCredits(of: $0.organisationID, at: now)) }
                }
                return try stored.map { balance in
                    try reader.balance(of: balance.organisationID, asOf: try moment.instant(for: balance.organisationID, reader))
                }
            }
            let views = balances.map(BalanceView.init)
            var table = [["organisation", "currency", "available", "reserved", "held", "spendable P1", "spendable (none)"]]
            for view in views {
                table.append([view.organisationID, view.currency, "\(view.available)", "\(view.reserved)",
                              "\(view.held)", "\(view.spendable["P1"]!)", "\(view.spendable["none"]!)"])
            }
            return StageOutcome(summary: views, human: TextTable.render(table, rightAligned: [2, 3, 4, 5, 6]))
        }
    }

    /// `--by team|investigation`: each organisation's consumption per team or investigation as it stood at
    /// the moment (`LedgerReader.consumption(of:currency:by:asOf:)`): credits of every deduction effective
    /// by then, money from the grants that had taken effect by then.
    private func consumption(by: ConsumptionBy, moment: BalanceMoment?) throws {
        try Runner.run("ledger balance", options: options, lock: false, humanToStdout: true) {
            let clock = try options.clock()
            let views = try LedgerReadAccess.read(options, clock: clock) { reader in
                let organisations = try org.map { [try reader.balance(of: $0)] } ?? reader.balances()
                return try organisations.flatMap { balance -> [ConsumptionView] in
                    let id = balance.organisationID
                    let instant = try moment?.instant(for: id, reader) ?? clock()
                    return try reader.consumption(
                        of: id, currency: balance.currency, by: by.dimension, asOf: instant, from: nil)
                        .map { group in
                            ConsumptionView(
                                organisationID: id, asOf: instant, by: by.rawValue,
                                key: group.key.isEmpty ? "(none)" : group.key, deductions: group.eventCount,
                                credits: group.credits, money: group.money)
                        }
                }
            }
            var table = [["organisation", "as of", by.rawValue, "deductions", "credits", "money"]]
            for view in views {
                table.append([view.organisationID, view.asOf.iso8601, view.key, "\(view.deductions)", "\(view.credits)",
                              view.money.description])
            }
            return StageOutcome(summary: views, human: TextTable.render(table, rightAligned: [3, 4, 5]))
        }
    }
}
