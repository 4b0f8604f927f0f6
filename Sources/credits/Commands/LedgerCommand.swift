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
            AuditCommand.self, AuditVerifyCommand.self, AuditKeygenCommand.self, VerifyCommand.self,
        ])
}
