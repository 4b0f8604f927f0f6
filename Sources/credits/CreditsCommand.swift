import ArgumentParser
import Foundation

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
        version: BuildInfo.description,
        subcommands: [
            InitCommand.self, IngestCommand.self, ReconcileCommand.self, ApplyCommand.self, AlertsCommand.self,
            ReportCommand.self, InvoiceCommand.self, LedgerCommand.self, KeysCommand.self, ServeCommand.self,
            DbCommand.self,
        ]
    )

    /// ArgumentParser's entry point, plus one thing it cannot do: with `--json`, a usage error is
    /// also printed on stdout as the error envelope every stage prints, so a scheduler that parses
    /// stdout learns what was wrong with the command it ran.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            // An `ExitCode` was thrown by a stage that has already printed its own envelope.
            if !(error is ExitCode), code.rawValue == ExitStatus.code(for: .usage), arguments.contains("--json") {
                Runner.printUsageError(
                    command: commandPath(arguments), code: code.rawValue, message: message(for: error))
            }
            exit(withError: error)
        }
    }

    /// The subcommand names at the front of `arguments` (`keys create`), as the envelope names them.
    static func commandPath(_ arguments: [String]) -> String {
        var names: [String] = []
        var command: any ParsableCommand.Type = CreditsCommand.self
        for argument in arguments {
            guard let next = command.configuration.subcommands.first(where: {
                $0.configuration.commandName == argument
            }) else { break }
            names.append(argument)
            command = next
        }
        return names.isEmpty ? "credits" : names.joined(separator: " ")
    }
}
