import Dispatch
import Ledger
import Synchronization

/// Group commit: requests that each need a small write wait here, and one writer commits everything
/// waiting in one transaction (`LedgerDatabase.writeEach`), then answers each request.
///
/// Why: one transaction per request serialises on the ledger's writer and pays a commit (an fsync with
/// `synchronous=FULL`) and two thread switches per request. Grouping pays them once per group, and the
/// group grows by itself with the load: while one group commits, the next one gathers.
///
/// Guarantees:
/// - A request is answered only after the transaction holding its unit has committed, so nothing is
///   acknowledged and then lost. If the transaction fails, every request in it gets that error.
/// - Units run one after another inside the transaction, in arrival order, each seeing the ones before,
///   so decisions taken in a unit (the credit gate's) are exactly as with one transaction each.
/// - A unit that throws is rolled back alone (its savepoint) and only its request gets the error.
/// - Bounded: at most `groupUnitsMax` units per transaction and `waitingUnitsMax` waiting; beyond that
///   a request is refused at once with `ProblemDetails.ledgerBusy` (503, retry) rather than queued.
final class GroupCommitQueue<Unit: Sendable, Outcome: Sendable>: Sendable {
    typealias Body = @Sendable (LedgerTransaction, Unit) throws -> Outcome

    private struct Waiting {
        let unit: Unit
        /// Who the unit's transfers name as their maker: each waiting request is a different caller.
        let actor: Actor
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var isCommitting = false
    }

    private enum Admission {
        case queued
        case queuedAndStart
        case refused
    }

    let ledger: any LiveLedger
    let groupUnitsMax: Int
    let waitingUnitsMax: Int
    private let body: Body
    private let state = Mutex(State())
    /// Where the commits run: off the event loops, since a commit waits for the disk.
    private let writerQueue: DispatchQueue

    init(ledger: any LiveLedger, label: String, groupUnitsMax: Int = 256, waitingUnitsMax: Int = 4096, body: @escaping Body) {
        precondition(groupUnitsMax > 0, "a group holds at least one unit")
        precondition(waitingUnitsMax >= groupUnitsMax, "the queue holds at least one full group")
        self.ledger = ledger
        self.groupUnitsMax = groupUnitsMax
        self.waitingUnitsMax = waitingUnitsMax
        self.body = body
        self.writerQueue = DispatchQueue(label: label)
    }

    /// Units waiting for the next group (diagnostics and tests).
    var waitingUnits: Int { state.withLock { $0.waiting.count } }

    /// Runs `body` for `unit` in the next group and returns its outcome once that group has committed.
    func commit(_ unit: Unit, as actor: Actor) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let admission: Admission = state.withLock { state in
                guard state.waiting.count < waitingUnitsMax else { return .refused }
                state.waiting.append(Waiting(unit: unit, actor: actor, continuation: continuation))
                if state.isCommitting { return .queued }
                state.isCommitting = true
                return .queuedAndStart
            }
            switch admission {
            case .queued: break
            case .queuedAndStart: writerQueue.async { self.commitWhileWaiting() }
            case .refused: continuation.resume(throwing: ProblemDetails.ledgerBusy)
            }
        }
    }

    /// Commits groups until nobody waits; the flag is cleared under the same lock that saw the queue
    /// empty, so a unit queued meanwhile always finds either a running writer or starts one.
    private func commitWhileWaiting() {
        while let group = nextGroup() {
            let outcomes: [Result<Outcome, any Error>]
            do {
                outcomes = try ledger.writeEach(group, actor: \.actor) { try body($0, $1.unit) }
            } catch {
                outcomes = Array(repeating: .failure(error), count: group.count)
            }
            precondition(outcomes.count == group.count, "one outcome per waiting request")
            for (waiting, outcome) in zip(group, outcomes) {
                waiting.continuation.resume(with: outcome)
            }
        }
    }

    private func nextGroup() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.isCommitting = false
                return nil
            }
            let count = min(groupUnitsMax, state.waiting.count)
            let group = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return group
        }
    }
}
