import Foundation
import Logging
import PostgresNIO

/// A ledger kept in a PostgreSQL database (`--db postgres://...`).
///
/// What runs on it today: the schema and its migrations (`PostgresSchema`), `ledger verify` and its digest
/// (the same checks and the same canonical dump as on SQLite), and `db copy` (`LedgerCopy`) as the way a
/// ledger gets there. The stages that post do not run on PostgreSQL yet; the CLI refuses them by name.
///
/// One connection, used by one task at a time (the CLI's). Queries are extended-protocol statements;
/// a migration's many statements run as one `DO` block.
public final class PostgresLedger: Sendable {
    let connection: PostgresConnection
    public let location: PostgresLocation
    let logger: Logger

    private init(connection: PostgresConnection, location: PostgresLocation, logger: Logger) {
        self.connection = connection
        self.location = location
        self.logger = logger
    }

    /// Connects and applies every pending migration (creating the schema in an empty database).
    public static func create(at location: PostgresLocation) async throws -> PostgresLedger {
        let ledger = try await connect(location)
        do {
            try await ledger.migrate()
        } catch {
            await ledger.close()
            throw PostgresStoreError(error, at: location)
        }
        return ledger
    }

    /// Connects to a database that already holds a ledger; refuses one without the schema, or with a newer one.
    public static func open(at location: PostgresLocation) async throws -> PostgresLedger {
        let ledger = try await connect(location)
        do {
            let applied = try await ledger.appliedMigrations()
            let known = Set(PostgresSchema.migrations.map(\.name))
            if !applied.isSubset(of: known) {
                throw PostgresStoreError(.internal, "\(location.redacted): the database was written by a newer version "
                    + "of credits (migrations \(applied.subtracting(known).sorted())); refusing to touch it")
            }
            if applied != known {
                throw PostgresStoreError(.inputMissing, "\(location.redacted): no credits ledger here (its schema is "
                    + "missing or not migrated); copy one in with `credits db copy --from FILE --to URL`")
            }
        } catch {
            await ledger.close()
            throw PostgresStoreError(error, at: location)
        }
        return ledger
    }

    public func close() async {
        try? await connection.close()
    }

    static func connect(_ location: PostgresLocation) async throws -> PostgresLedger {
        let logger = Logger(label: "credits.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try location.configuration(), id: 1, logger: logger)
            return PostgresLedger(connection: connection, location: location, logger: logger)
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }

    // MARK: Statements

    /// Runs one statement and discards its rows.
    func execute(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    func execute(sql: String) async throws {
        try await execute(PostgresQuery(unsafeSQL: sql))
    }

    /// The first column of every row, as text.
    func strings(_ query: PostgresQuery) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(query, logger: logger).decode(String.self) {
            values.append(value)
        }
        return values
    }

    func strings(sql: String) async throws -> [String] {
        try await strings(PostgresQuery(unsafeSQL: sql))
    }

    /// The first column of the first row, as an integer.
    func integer(_ query: PostgresQuery) async throws -> Int64? {
        for try await value in try await connection.query(query, logger: logger).decode(Int64?.self) {
            return value
        }
        return nil
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(
        _ begin: String = "BEGIN", _ body: () async throws -> T
    ) async throws -> T {
        try await execute(sql: begin)
        let value: T
        do {
            value = try await body()
        } catch {
            try? await execute(sql: "ROLLBACK")
            throw error
        }
        try await execute(sql: "COMMIT")
        return value
    }

    // MARK: Schema

    func appliedMigrations() async throws -> Set<String> {
        let exists = try await integer("SELECT CAST(COUNT(*) AS bigint) FROM pg_tables WHERE tablename = 'credits_migrations'")
        guard exists == 1 else { return [] }
        return Set(try await strings("SELECT name FROM credits_migrations"))
    }

    /// Applies every pending migration, each in its own transaction, under an advisory lock so two
    /// processes never migrate at once.
    func migrate() async throws {
        try await transaction {
            try await execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))")
            try await execute(sql: """
                CREATE TABLE IF NOT EXISTS credits_migrations (
                    name text PRIMARY KEY NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        for migration in PostgresSchema.migrations {
            try await transaction {
                try await execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))")
                let applied = Set(try await strings("SELECT name FROM credits_migrations"))
                let known = Set(PostgresSchema.migrations.map(\.name))
                guard applied.isSubset(of: known) else {
                    throw PostgresStoreError(.internal, "\(location.redacted): the database was written by a newer "
                        + "version of credits; refusing to touch it")
                }
                guard !applied.contains(migration.name) else { return }
                try await execute(sql: "DO $credits_migration$ BEGIN EXECUTE $credits_ddl$\n\(migration.sql)\n"
                    + "$credits_ddl$; END $credits_migration$")
                try await execute("INSERT INTO credits_migrations (name) VALUES (\(migration.name))")
            }
        }
    }

    // MARK: Verify

    /// `ledger verify` on PostgreSQL: the checks of `LedgerChecks` and the digest, in one read-only
    /// snapshot (REPEATABLE READ), so they all see the same ledger.
    public func verify() async throws -> VerificationReport {
        do {
            return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                var checks: [VerificationReport.Check] = []
                for check in LedgerChecks.checks(.postgres) {
                    switch check {
                    case .sql(let name, let query):
                        let offending = try await strings(PostgresQuery(unsafeSQL: PostgresDialect.translate(query) + " LIMIT 5"))
                        checks.append(.init(name: name, offending: offending))
                    case .grantCosts:
                        checks.append(.init(name: "grantCostsExact", offending: try await grantCostViolations()))
                    }
                }
                let counts = LedgerChecks.countQueries
                return VerificationReport(
                    checks: checks, digest: try await digestInTransaction(),
                    transfers: Int(try await integer(PostgresQuery(unsafeSQL: counts.transfers)) ?? 0),
                    accounts: Int(try await integer(PostgresQuery(unsafeSQL: counts.accounts)) ?? 0),
                    grants: Int(try await integer(PostgresQuery(unsafeSQL: counts.grants)) ?? 0))
            }
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }

    /// The ledger digest, from one snapshot: the same bytes `LedgerReader.digest()` hashes on SQLite.
    public func digest() async throws -> String {
        do {
            return try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                try await digestInTransaction()
            }
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }

    private func digestInTransaction() async throws -> String {
        var dump = CanonicalDump()
        for query in LedgerChecks.digestQueries {
            try await dump.feed(try await connection.query(
                PostgresQuery(unsafeSQL: PostgresDialect.translate(query)), logger: logger))
        }
        return dump.finalize()
    }

    private func grantCostViolations() async throws -> [String] {
        var check = LedgerChecks.GrantCostCheck()
        let rows = try await connection.query(PostgresQuery(unsafeSQL: LedgerChecks.grantCostRows), logger: logger)
        for try await (id, credits, remaining, cost, drawnCost) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
            check.add(id: id, credits: credits, remaining: remaining, cost: cost, drawnCost: drawnCost)
        }
        return check.violations
    }
}

extension CanonicalDump {
    /// Appends every row PostgreSQL returns, in its order, as the SQLite feed writes the same values.
    mutating func feed(_ rows: PostgresRowSequence) async throws {
        for try await row in rows {
            for (index, cell) in row.enumerated() {
                beginColumn(index)
                guard let bytes = cell.bytes else {
                    appendNull()
                    continue
                }
                switch cell.dataType {
                case .int8, .int4, .int2:
                    appendInteger(try cell.decode(Int64.self))
                case .text, .varchar, .name, .bpchar:
                    bytes.withUnsafeReadableBytes { raw in appendText(raw.bindMemory(to: UInt8.self)) }
                default:
                    throw PostgresStoreError(.internal, "the digest read column \(cell.columnName) of type "
                        + "\(cell.dataType), which no digested column has")
                }
            }
            endRow()
        }
    }
}

/// A failure of the PostgreSQL store, classified for exit codes; never shows the password.
public struct PostgresStoreError: ClassifiedError {
    public let failureClass: FailureClass
    public let message: String
    /// The server's SQLSTATE, when the server refused something (`23001` for an append-only trigger).
    public let sqlState: String?

    /// A deadlock or a serialization failure: the server rolled the transaction back, and running it again
    /// from the start is the fix.
    var isTransient: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The database cannot be reached now: the connection was lost or refused (a restart, a failover, no
    /// free slot), or the live ledger is closing. Not the request's fault, and a retry may succeed: the
    /// service answers 503 (`ledger-unavailable`).
    public var isUnreachable: Bool { failureClass == .io }

    init(_ failureClass: FailureClass, _ message: String, sqlState: String? = nil) {
        self.failureClass = failureClass
        self.message = message
        self.sqlState = sqlState
    }

    /// Classifies any error a PostgreSQL call threw, naming the database.
    init(_ error: any Error, at location: PostgresLocation) {
        if let error = error as? PostgresStoreError {
            self = error
            return
        }
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.beginError ?? error.commitError {
            self.init(inner, at: location)
            return
        }
        let name = location.redacted
        guard let error = error as? PSQLError else {
            if let classified = error as? any ClassifiedError {
                self.init(classified.failureClass, classified.description)
            } else {
                self.init(.io, "\(name): cannot reach the database (\(error))")
            }
            return
        }
        guard let state = error.serverInfo?[.sqlState] else {
            self.init(.io, "\(name): cannot reach the database (\(Self.clientDetail(error)))")
            return
        }
        let detail = [error.serverInfo?[.message], error.serverInfo?[.detail]].compactMap { $0 }.joined(separator: ": ")
        let failure: FailureClass
        var message = "\(name): \(detail) (SQLSTATE \(state))"
        switch state {
        case "3D000":
            failure = .inputMissing
            message = "\(name): \(detail); create the database first (README, PostgreSQL)"
        case _ where state.hasPrefix("28"), _ where state.hasPrefix("08"), _ where state.hasPrefix("53"),
             _ where state.hasPrefix("57"), _ where state.hasPrefix("58"):
            failure = .io
        case "40001", "40P01", "55P03":
            failure = .locked
        case _ where state.hasPrefix("42501"):
            failure = .io
        default:
            failure = .internal
        }
        self.init(failure, message, sqlState: state)
    }

    private static func clientDetail(_ error: PSQLError) -> String {
        var parts = ["\(error.code)"]
        if let underlying = error.underlying { parts.append("\(underlying)") }
        return parts.joined(separator: ": ")
    }

    public var description: String { message }
}

extension PostgresLocation {
    /// The postgres-nio configuration: TCP or Unix socket, and TLS as libpq's `sslmode` means it.
    ///
    /// `prefer` and `require` encrypt without checking the certificate (as libpq does without a root
    /// certificate); `verify-ca` checks the chain, `verify-full` the chain and the host name, against the
    /// system's trust roots or `sslrootcert`.
    func configuration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database, tls: try tls())
        }
        configuration.options.connectTimeout = .seconds(Int64(connectTimeoutSeconds))
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        switch sslMode {
        case .disable: return .disable
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        let context = try NIOSSLContext(configuration: tls)
        return sslMode == .prefer ? .prefer(context) : .require(context)
    }
}
