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
        try await withPostgresCopy(of: ledger, clock: clock) { try body($0.staging) }
    }
}

/// Runs `body` with the ledger reads (`LedgerReads`) of `kind` for `ledger`: one read transaction of the
/// SQLite ledger itself, or of a PostgreSQL database of its own holding a copy of it (`db copy`), dropped
/// afterwards. On a thread of its own, as `withStagingStore`.
public func withLedgerReads<T: Sendable>(
    _ kind: StoreKind, for ledger: LedgerDatabase, _ body: (any LedgerReads) throws -> T
) async throws -> T {
    switch kind {
    case .sqlite:
        return try await onOwnThread { try ledger.read { try body($0) } }
    case .postgres:
        return try await withPostgresCopy(of: ledger, clock: { Instant(Date()) }) { try $0.read(body) }
    }
}

/// Copies `ledger` into a PostgreSQL database of its own (`db copy`), then runs `body`, on a thread of its
/// own, with that store open; the database is dropped afterwards.
private func withPostgresCopy<T>(
    of ledger: LedgerDatabase, clock: @escaping @Sendable () -> Instant, _ body: (PostgresStore) throws -> T
) async throws -> T {
    try await PostgresTestServer.withDatabase { _, location in
        let target = try await PostgresLedger.create(at: location)
        do {
            _ = try await LedgerCopy.copy(from: ledger, to: target)
        } catch {
            await target.close()
            throw error
        }
        await target.close()
        return try await onOwnThread {
            let store = try PostgresStore.open(at: location, clock: clock)
            defer { store.close() }
            return try body(store)
        }
    }
}

/// A ledger of either store, as a conformance test loads configurations into it and reads it back.
public protocol LedgerUnderTest {
    func load(_ configuration: Configuration) throws -> ConfigurationChange
    func read<T>(_ body: (any LedgerReads) throws -> T) throws -> T
    func digest() throws -> String
}

extension PostgresStore: LedgerUnderTest {}

private struct SQLiteLedgerUnderTest: LedgerUnderTest {
    let ledger: LedgerDatabase

    func load(_ configuration: Configuration) throws -> ConfigurationChange {
        try ledger.write { try $0.load(configuration) }
    }

    func read<T>(_ body: (any LedgerReads) throws -> T) throws -> T {
        try ledger.read { try body($0) }
    }

    func digest() throws -> String {
        try ledger.read { try $0.digest() }
    }
}

/// Runs `body`, on a thread of its own, with a new empty ledger of `kind`: a SQLite file in `directory`, or
/// a PostgreSQL database of its own (`credits init`'s schema), dropped afterwards.
public func withEmptyLedger(
    _ kind: StoreKind, in directory: TemporaryDirectory, clock: @escaping @Sendable () -> Instant,
    _ body: (any LedgerUnderTest) throws -> Void
) async throws {
    switch kind {
    case .sqlite:
        let ledger = try LedgerDatabase.create(at: directory.file("empty-\(UUID().uuidString).sqlite"), clock: clock)
        try await onOwnThread { try body(SQLiteLedgerUnderTest(ledger: ledger)) }
    case .postgres:
        try await PostgresTestServer.withDatabase { _, location in
            try await onOwnThread {
                let (store, created) = try PostgresStore.create(at: location, clock: clock)
                defer { store.close() }
                precondition(created, "a new database holds no ledger")
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
