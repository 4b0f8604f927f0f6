import Foundation
import Synchronization

/// A ledger on PostgreSQL as the live service uses it (`LiveLedger`): `credits serve --db postgres://...`,
/// as many replicas as wanted on one database.
///
/// Posting is synchronous (`LedgerTransaction` waits for each statement), so it runs on threads of its own,
/// never on the event loops or on Swift concurrency's pool: `connections` worker threads, each holding one
/// connection (`PostgresStore`), take the requests' reads and writes in arrival order. The group commits
/// (`writeEach`) run on the thread that calls them (the group commit's writer queue) with a connection of
/// their own: one made with the workers', more when commits of several queues overlap, kept idle between.
///
/// What keeps replicas from losing or doubling anything is the posting transaction's, not this type's:
/// READ COMMITTED with the organisation locked before posting decides, unique keys for every charge and
/// top-up, and a rerun after a deadlock (`PostgresStore.write`).
public final class PostgresLiveLedger: LiveLedger {
    /// The database this ledger is on.
    public let location: PostgresLocation
    private let clock: @Sendable () -> Instant
    private let jobs = Mutex(Jobs())
    private let jobsWaiting = DispatchSemaphore(value: 0)
    private let idle = Mutex<[PostgresStore]>([])
    private let workers: Int

    private struct Jobs {
        /// Each job gets the worker's connection, or why there is none (it was lost and cannot be made again).
        var queue: [@Sendable (Result<PostgresStore, any Error>) -> Void] = []
        var head = 0
        var closed = false
    }

    /// Connects the worker threads' connections (each refused as `PostgresStore.open` refuses it: no such
    /// database, no ledger in it, a newer schema).
    public init(at location: PostgresLocation, connections: Int = 4, clock: @escaping @Sendable () -> Instant) throws {
        precondition(connections > 0, "at least one connection")
        self.location = location
        self.clock = clock
        self.workers = connections
        var stores: [PostgresStore] = []
        do {
            // One more for the first group commit, so a commit does not wait for a connection to be made.
            for _ in 0...connections { stores.append(try PostgresStore.open(at: location, clock: clock)) }
        } catch {
            for store in stores { store.close() }
            throw error
        }
        idle.withLock { $0.append(stores.removeLast()) }
        for (index, store) in stores.enumerated() {
            let thread = Thread { [self] in work(on: store) }
            thread.name = "credits.postgres.\(index)"
            thread.start()
        }
    }

    /// `init` from async code: connects on a thread of its own, never blocking a thread of Swift concurrency's
    /// pool while it waits for the server.
    public static func connect(
        at location: PostgresLocation, connections: Int = 4, clock: @escaping @Sendable () -> Instant
    ) async throws -> PostgresLiveLedger {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try PostgresLiveLedger(at: location, connections: connections, clock: clock) })
            }.start()
        }
    }

    /// Stops the worker threads once the jobs already queued are done, and closes every connection. Returns
    /// at once: the connections are closed on threads of their own (closing waits for the server, which
    /// must never hold a thread of Swift concurrency's pool, where `close` may be called).
    public func close() {
        jobs.withLock { $0.closed = true }
        for _ in 0..<workers { jobsWaiting.signal() }
        let stores = idle.withLock { stores in defer { stores = [] }; return stores }
        if !stores.isEmpty { Thread { for store in stores { store.close() } }.start() }
    }

    public var now: Instant { clock() }

    public func write<T: Sendable>(
        as actor: Actor, _ body: @escaping @Sendable (LedgerTransaction) throws -> T
    ) async throws -> T {
        try await onWorker { try $0.write(as: actor, body) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (LedgerReader) throws -> T) async throws -> T {
        try await onWorker { try $0.reading(body) }
    }

    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (PointReader) throws -> T) async throws -> T {
        try await onWorker { try $0.pointRead(body) }
    }

    public func writeEach<Unit, Outcome>(
        _ units: [Unit], actor: (Unit) -> Actor, _ body: (LedgerTransaction, Unit) throws -> Outcome
    ) throws -> [Result<Outcome, any Error>] {
        let store = try idle.withLock { $0.popLast() }.flatMap { $0.isClosed ? nil : $0 } ?? connectAgain()
        defer {
            // Back to the idle connections, or closed when the ledger was closed meanwhile (on this thread,
            // the group commit's own).
            if jobs.withLock({ $0.closed }) { store.close() } else { idle.withLock { $0.append(store) } }
        }
        return try store.writeEach(units, actor: actor, body)
    }

    /// A new connection in place of a lost one. Whatever refuses it (the server down or restarting, not
    /// accepting connections, out of connection slots) is the database being unavailable for now, not the
    /// request's fault: an `io` failure, which the service answers with 503 and `Retry-After`.
    private func connectAgain() throws -> PostgresStore {
        do {
            return try PostgresStore.open(at: location, clock: clock)
        } catch let error as PostgresStoreError {
            throw PostgresStoreError(.io, "cannot connect again: \(error.message)", sqlState: error.sqlState)
        }
    }

    /// Runs `body` on the next free worker thread with its connection, and waits for it without blocking.
    private func onWorker<T: Sendable>(_ body: @escaping @Sendable (PostgresStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let queued = jobs.withLock { jobs in
                guard !jobs.closed else { return false }
                jobs.queue.append { connection in continuation.resume(with: Result { try body(connection.get()) }) }
                return true
            }
            guard queued else { return continuation.resume(throwing: PostgresStoreError(.io, "the ledger is closed")) }
            jobsWaiting.signal()
        }
    }

    /// A worker thread: runs jobs, one at a time, until the ledger is closed and nothing is queued. A lost
    /// connection (the server restarted, or ended it) is replaced before the next job; if that fails too,
    /// the job fails with why (a lost connection is never used), and the next one tries again.
    private func work(on first: PostgresStore) {
        var store = first
        while true {
            jobsWaiting.wait()
            let job: (@Sendable (Result<PostgresStore, any Error>) -> Void)? = jobs.withLock { jobs in
                guard jobs.head < jobs.queue.count else { return nil }
                defer {
                    jobs.head += 1
                    if jobs.head == jobs.queue.count {
                        jobs.queue.removeAll(keepingCapacity: true)
                        jobs.head = 0
                    }
                }
                return jobs.queue[jobs.head]
            }
            guard let job else { break }
            guard store.isClosed else {
                job(.success(store))
                continue
            }
            do {
                store = try connectAgain()
                job(.success(store))
            } catch {
                job(.failure(error))
            }
        }
        store.close()
    }
}
