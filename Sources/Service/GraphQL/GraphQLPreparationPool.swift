import Dispatch
import NIOPosix
import Synchronization

/// A few dedicated threads that parse and validate GraphQL documents, each job with a time budget.
///
/// Why: requests run on the server's event loops (`EventLoopTaskExecutor`), so a document that is slow
/// to validate would stall every route served by that loop: `/healthz`, webhooks, usage (issue 15,
/// D2). `GraphQLNestingScan` removes the slow documents known today; this pool makes an unforeseen one
/// cost at most a pool thread, never a loop. A caller waits at most the budget: a job still queued
/// then is dropped unrun, and a job still running is abandoned to finish on its thread (GraphQL's
/// validation cannot be interrupted). Nobody waits for the pool to stop, so an abandoned job cannot hold
/// up the server's shutdown: its threads end once the endpoint that owns it is gone and their last job
/// is done. Only cache misses come here; a cached document never leaves its loop.
///
/// Each `GraphQLEndpoint` owns one (the service has one endpoint): a pool shared by every endpoint of a
/// process let one server's abandoned jobs delay another's past its budget, which the tests, running many
/// servers at once, saw as a document refused for the wrong reason.
final class GraphQLPreparationPool: Sendable {

    enum Outcome<Value: Sendable>: Sendable {
        case finished(Value)
        /// The job ran past the budget (it may still be running).
        case overran
        /// The job did not start within the budget (every thread was busy); it will not run.
        case notStarted
    }

    private let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Runs `work` on a pool thread and returns its value, or why there is none after `budget`.
    func run<Value: Sendable>(budget: Duration, _ work: @escaping @Sendable () -> Value) async -> Outcome<Value> {
        await withCheckedContinuation { continuation in
            let job = Job(continuation)
            // Fires after every job; once the job has settled, `expire` does nothing.
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.dispatchInterval(budget)) { job.expire() }
            pool.submit { state in
                guard case .active = state, job.start() else { return job.settle(.notStarted) }
                job.settle(.finished(work()))
            }
        }
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .never }
        return .nanoseconds(Int(nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }

    /// One submitted job: resumes its caller exactly once, with whichever of the work and the deadline
    /// comes first.
    private final class Job<Value: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Outcome<Value>, Never>?
            var started = false
        }

        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<Outcome<Value>, Never>) {
            state = Mutex(State(continuation: continuation))
        }


        /// Marks the job started; false when its caller has already been answered (do not run it).
        func start() -> Bool {
            state.withLock { state in
                guard state.continuation != nil else { return false }
                state.started = true
                return true
            }
        }

        func settle(_ outcome: Outcome<Value>) {
            let continuation = state.withLock { state in
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(returning: outcome)
        }

        /// The budget is over: answers `overran` or `notStarted`, decided under the same lock as `start`.
        func expire() {
            let (continuation, started) = state.withLock { state in
                defer { state.continuation = nil }
                return (state.continuation, state.started)
            }
            continuation?.resume(returning: started ? .overran : .notStarted)
        }
    }
}
