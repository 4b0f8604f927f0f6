import ArgumentParser

/// `credits`: one executable, one subcommand per stage. Each stage is its own process so a
/// scheduler can chain them, retry them and act on their exit codes.
@main
struct CreditsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credits",
        abstract: "A double-entry credits ledger: ingest, reconcile, apply, report, invoice, alert, serve.",
        discussion: """
            Exit codes: 0 done; 3 done with exceptions to review; 64 usage; 65 bad input data;
            66 input missing; 70 internal error; 74 I/O error; 75 another run holds the lock.
            """,
        subcommands: [
            InitCommand.self, IngestCommand.self, ReconcileCommand.self, ApplyCommand.self, AlertsCommand.self,
            ReportCommand.self, InvoiceCommand.self, LedgerCommand.self, KeysCommand.self, ServeCommand.self,
        ]
    )
}
