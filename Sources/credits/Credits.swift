import ArgumentParser

@main
struct Credits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credits", abstract: "Credits ledger.", subcommands: [ReportCommand.self])
}
