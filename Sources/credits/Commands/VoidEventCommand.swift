import ArgumentParser
import Foundation
import Ledger

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
        // On PostgreSQL the transaction itself keeps a void and a charge of the same event apart (SERIALIZABLE).
        try Runner.run("ledger void-event", options: options, lock: !options.store.isPostgres) {
            let clock = try options.clock()
            let result = switch options.store {
            case .sqlite(let path):
                try LedgerDatabase.open(at: path, clock: clock).voidCostEvent(eventID: eventID, reason: reason, by: actor)
            case .postgres(let location):
                try PostgresStore.using(location, clock: clock) {
                    try $0.voidCostEvent(eventID: eventID, reason: reason, by: actor)
                }
            }
            let void = result.void
            let verb = result.status == .voided ? "voided" : "already voided"
            return StageOutcome(
                summary: VoidSummary(status: result.status, void: void),
                human: ["\(verb): cost event \(void.eventID) of \(void.organisationID) (\(void.credits) credits) "
                        + "at \(void.voidedAt.iso8601) by \(void.actor): \(void.reason)"])
        }
    }
}

struct VoidSummary: Encodable {
    let status: CostEventVoidStatus
    let void: CostEventVoid
}
