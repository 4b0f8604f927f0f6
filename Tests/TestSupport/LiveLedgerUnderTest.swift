import Foundation
@testable import Ledger

/// Runs `body` with a live ledger (`LiveLedger`, what `credits serve` runs on) of `kind`, loaded with
/// `configuration`: a SQLite file in `directory` opened as the service opens it, or a PostgreSQL database of
/// its own (`credits init`'s schema) behind `PostgresLiveLedger`, dropped afterwards. The service tests run
/// their one body against each (issue 17: the live path on either store, the same answers).
public func withLiveLedger(
    _ kind: StoreKind, in directory: TemporaryDirectory, configuration: Configuration,
    clock: @escaping @Sendable () -> Instant = { Instant(Date()) },
    _ body: (any LiveLedger) async throws -> Void
) async throws {
    switch kind {
    case .sqlite:
        let ledger = try LedgerDatabase.create(
            at: directory.file("live-\(UUID().uuidString).sqlite"), durability: .live, clock: clock)
        _ = try await ledger.write(as: .tests) { try $0.load(configuration) }
        try await body(ledger)
    case .postgres:
        try await PostgresTestServer.withDatabase { _, location in
            try await onOwnThread {
                let (store, _) = try PostgresStore.create(at: location, clock: clock)
                defer { store.close() }
                _ = try store.load(configuration)
            }
            try await withLiveReplicas(1, at: location, clock: clock) { try await body($0[0]) }
        }
    }
}

/// Runs `body` with `count` live ledgers on one PostgreSQL database, each with connections of its own: the
/// ledgers of `count` replicas of `credits serve`. Closed afterwards.
public func withLiveReplicas(
    _ count: Int, at location: PostgresLocation, clock: @escaping @Sendable () -> Instant = { Instant(Date()) },
    _ body: ([PostgresLiveLedger]) async throws -> Void
) async throws {
    var replicas: [PostgresLiveLedger] = []
    do {
        for _ in 0..<count { replicas.append(try await PostgresLiveLedger.connect(at: location, connections: 2, clock: clock)) }
        try await body(replicas)
    } catch {
        for replica in replicas { replica.close() }
        throw error
    }
    for replica in replicas { replica.close() }
}

/// `ledger verify`'s report of a live ledger of either store.
public func verification(of ledger: any LiveLedger) async throws -> VerificationReport {
    switch ledger {
    case let sqlite as LedgerDatabase:
        return try await sqlite.read { try $0.verify() }
    case let postgres as PostgresLiveLedger:
        let connection = try await PostgresLedger.open(at: postgres.location)
        do {
            let report = try await connection.verify()
            await connection.close()
            return report
        } catch {
            await connection.close()
            throw error
        }
    default:
        preconditionFailure("a live ledger is on SQLite or PostgreSQL")
    }
}

/// The ledger digest (`ledger verify`'s) of a live ledger of either store.
public func digest(of ledger: any LiveLedger) async throws -> String {
    switch ledger {
    case let sqlite as LedgerDatabase:
        return try await sqlite.read { try $0.digest() }
    case let postgres as PostgresLiveLedger:
        return try await onOwnThread { try PostgresStore.using(postgres.location, clock: { postgres.now }) { try $0.digest() } }
    default:
        preconditionFailure("a live ledger is on SQLite or PostgreSQL")
    }
}

/// Runs `body` with batch ingest's staging store of the live ledger's database (`credits ingest` beside a
/// running `credits serve`), on a thread of its own.
public func withStagingStore<T>(of ledger: any LiveLedger, _ body: (any StagingStore) throws -> T) async throws -> T {
    switch ledger {
    case let sqlite as LedgerDatabase:
        return try await onOwnThread { try body(sqlite) }
    case let postgres as PostgresLiveLedger:
        return try await onOwnThread {
            try PostgresStore.using(postgres.location, clock: { postgres.now }) { try body($0.staging) }
        }
    default:
        preconditionFailure("a live ledger is on SQLite or PostgreSQL")
    }
}

/// The service tests' starting balance: `credits` granted to `organisationID` as a top-up effective on
/// 1 November 2026 (key `grant`).
public func grantTopUp(_ credits: Credits, to organisationID: String, in ledger: any LiveLedger) async throws {
    _ = try await ledger.write(as: .tests) { tx in
        try tx.grant(GrantRequest(
            idempotencyKey: "grant", organisationID: organisationID, source: .topUp, credits: credits,
            effectiveAt: instant("2026-11-01T00:00:00Z")))
    }
}
