import Foundation
@testable import Ledger

/// The PostgreSQL server the tests may use: `$CREDITS_TEST_POSTGRES_URL` (a superuser's URL; `.ci/run`
/// starts a throwaway cluster with `scripts/pg-cluster` and exports it). Without it, every PostgreSQL test
/// is skipped, and says so.
public enum PostgresTestServer {
    public static let url: String? = {
        guard let url = ProcessInfo.processInfo.environment["CREDITS_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    public static let skipMessage = "PostgreSQL tests skipped: CREDITS_TEST_POSTGRES_URL is not set "
        + "(.ci/run starts a throwaway cluster: eval \"$(scripts/pg-cluster start)\")"

    /// Whether the tests can run; prints the skip message once when they cannot.
    public static let available: Bool = {
        if url == nil { FileHandle.standardError.write(Data("\n*** \(skipMessage) ***\n\n".utf8)) }
        return url != nil
    }()

    /// The server as the test URL names it (its database is the superuser's, not a test's own).
    public static func serverLocation() throws -> PostgresLocation {
        guard let url, case .postgres(let server) = try StoreLocation.parse(url) else {
            throw PostgresStoreError(.usage, skipMessage)
        }
        return server
    }

    /// At most this many test databases at once. Swift Testing starts every test of a run together, and each
    /// PostgreSQL test holds a few connections (a live ledger's workers and group commit, three replicas', the
    /// stages it runs): unbounded, a full run passed the server's 200 connections ("too many clients already").
    public static let databasesAtOnce = 16
    private static let slots = Slots(databasesAtOnce)

    /// A database of its own for one test: created with a random name, dropped after `body`, whatever it did.
    /// `body` gets the database's URL (with the password) and its parsed location. Waits while
    /// `databasesAtOnce` other tests hold theirs.
    public static func withDatabase<T>(
        _ body: (_ url: String, _ location: PostgresLocation) async throws -> T
    ) async throws -> T {
        await slots.take()
        do {
            let value = try await withOwnDatabase(body)
            await slots.give()
            return value
        } catch {
            await slots.give()
            throw error
        }
    }

    private static func withOwnDatabase<T>(
        _ body: (_ url: String, _ location: PostgresLocation) async throws -> T
    ) async throws -> T {
        let server = try serverLocation()
        let name = "credits_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // Collated as most servers are (a language's order, not byte order), so a query that leaves text order
        // to the database's collation instead of saying `COLLATE "C"` (`COLLATE BINARY` in portable SQL)
        // answers differently from SQLite here, and fails.
        try await execute(
            "CREATE DATABASE \(name) TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'", at: server)
        var location = server
        location.database = name
        do {
            let value = try await body(location.connectionURL, location)
            try await execute("DROP DATABASE \(name) WITH (FORCE)", at: server)
            return value
        } catch {
            try? await execute("DROP DATABASE \(name) WITH (FORCE)", at: server)
            throw error
        }
    }

    /// Runs `sql` (one or more statements, in one transaction) as the superuser; the server's refusal is
    /// thrown as a `PostgresStoreError` carrying its SQLSTATE. `CREATE`/`DROP DATABASE` run as they are.
    public static func execute(_ sql: String, at location: PostgresLocation) async throws {
        let connection = try await PostgresLedger.connect(location)
        let statement = sql.hasPrefix("CREATE DATABASE") || sql.hasPrefix("DROP DATABASE") ? sql
            : "DO $credits_test$ BEGIN EXECUTE $credits_sql$\n\(sql)\n$credits_sql$; END $credits_test$"
        do {
            try await connection.execute(sql: statement)
        } catch {
            await connection.close()
            throw PostgresStoreError(error, at: location)
        }
        await connection.close()
    }

    /// The first column of each row `sql` returns, as text.
    public static func strings(_ sql: String, at location: PostgresLocation) async throws -> [String] {
        let connection = try await PostgresLedger.connect(location)
        do {
            let values = try await connection.strings(sql: sql)
            await connection.close()
            return values
        } catch {
            await connection.close()
            throw PostgresStoreError(error, at: location)
        }
    }
}

/// A counting semaphore for async tests: `take` waits, without blocking a thread, until a slot is free.
private actor Slots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) {
        free = count
    }

    func take() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the slot to the longest waiting test, or frees it.
    func give() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
