import Foundation
@testable import Ledger

/// The stores a conformance test runs its one body against (issue 17: parameterised tests, not copies).
public enum StoreKind: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL when a server is there (else `PostgresTestServer` says once why not).
    public static var available: [StoreKind] { PostgresTestServer.available ? [.sqlite, .postgres] : [.sqlite] }

    public var description: String { rawValue }
}

/// Runs `body` with the staging store of `kind` for `ledger` (an initialised SQLite ledger): the ledger
/// itself, or a PostgreSQL database of its own holding a copy of it (`db copy`), dropped afterwards.
///
/// `body` runs on a thread of its own, as ingest's staging runs in the CLI: the PostgreSQL store waits
/// for its work synchronously, which must never hold a thread of Swift concurrency's pool.
public func withStagingStore(
    _ kind: StoreKind, for ledger: LedgerDatabase, clock: @escaping @Sendable () -> Instant = { Instant(Date()) },
    _ body: (any StagingStore) throws -> Void
) async throws {
    switch kind {
    case .sqlite:
        try await onOwnThread { try body(ledger) }
    case .postgres:
        try await PostgresTestServer.withDatabase { _, location in
            let target = try await PostgresLedger.create(at: location)
            do {
                _ = try await LedgerCopy.copy(from: ledger, to: target)
            } catch {
                await target.close()
                throw error
            }
            await target.close()
            try await onOwnThread {
                let store = try PostgresStagingStore.open(at: location, clock: clock)
                defer { store.close() }
                try body(store)
            }
        }
    }
}

/// Runs `body` on a new thread and waits for it without blocking a thread of Swift concurrency's pool.
public func onOwnThread<T>(_ body: () throws -> T) async throws -> T {
    try await withoutActuallyEscaping(body) { body in
        let work = Work(body)
        let outcome = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Work<T>, any Error>) in
            Thread {
                do {
                    try work.run()
                    continuation.resume(returning: work)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
        return outcome.result!
    }
}

/// The body and its result, handed to the thread and back. The body is dropped once it has run, so
/// nothing holds it when `withoutActuallyEscaping` ends (the thread may outlive the wait briefly).
private final class Work<T>: @unchecked Sendable {
    private var body: (() throws -> T)?
    var result: T?

    init(_ body: @escaping () throws -> T) {
        self.body = body
    }

    func run() throws {
        let body = self.body
        self.body = nil
        result = try body!()
    }
}
