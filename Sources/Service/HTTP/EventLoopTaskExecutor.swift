import NIOCore

/// A task executor that runs jobs on the server's own event loops, preferring the loop of the thread that
/// enqueues them.
///
/// Why: by default every request hops from the NIO event loop that read it to Swift's cooperative pool,
/// and back to the loop to write the answer; GraphQL adds a child task per field on top. On two cores
/// those hops, not the work, bounded throughput: the profile was led by kernel task switching. With this
/// executor preferred for the whole server task tree, a request that is read on loop L resumes on L, its
/// GraphQL child tasks run on L, and its answer is written on L: no thread switch at all.
///
/// What it asks of the code running on it: never block for long. The service's reads are point lookups
/// run in place (`LedgerDatabase.readBlocking`), writes go to the ledger's writer queue and are awaited,
/// and outbound HTTP (Revolut) is asynchronous. Jobs enqueued from a thread outside the group (a GRDB
/// queue resuming a continuation) go to the group's next loop.
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // `any()` is the current loop when called on one of the group's threads (MultiThreadedEventLoopGroup).
        group.any().execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
