import NIOCore
import PostgresNIO
import Synchronization

/// Portable SQL (`SQLSession`) on a PostgreSQL connection, inside whatever transaction the caller opened.
///
/// Synchronous: each statement waits for its round trip (`PostgresLedger.waitForResult`), so use it from a
/// thread of its own (the CLI's main thread, a `Thread`), never from an event loop or a task of Swift
/// concurrency's pool.
struct PostgresSession: SQLSession {
    let ledger: PostgresLedger
    /// Whether a statement of this session's transaction failed on a deadlock or a serialization failure
    /// (`PostgresStoreError.isTransient`): the transaction is lost whatever the code above made of the
    /// error (the next statement fails as "transaction aborted"), and running it again is the fix.
    private let failures = TransientFailures()

    init(ledger: PostgresLedger) {
        self.ledger = ledger
    }

    var sawTransientFailure: Bool { failures.seen.withLock { $0 } }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try result(of: PostgresDialect.query(sql, arguments))
    }

    func records(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRecord] {
        try records(PostgresDialect.query(sql, arguments))
    }

    private func records(_ query: PostgresQuery) throws -> [SQLRecord] {
        try result(of: query).rows.map { row in
            SQLRecord(values: try row.makeRandomAccess().map(PostgresDialect.value))
        }
    }

    /// Runs one statement and waits for its result, remembering a transient failure.
    func result(of query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try ledger.waitForResult(of: query)
        } catch let error as PostgresStoreError where error.isTransient {
            failures.seen.withLock { $0 = true }
            throw error
        }
    }

    private final class TransientFailures: Sendable {
        let seen = Mutex(false)
    }

    /// Rows a page at a time through a cursor of the caller's transaction (`DECLARE ... CURSOR`, `FETCH`).
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLColumns) throws -> Void) throws {
        let cursor = "credits_rows_\(Self.cursors.add(1, ordering: .relaxed).newValue)"
        let declare = PostgresDialect.query(sql, arguments, prefix: "DECLARE \(cursor) NO SCROLL CURSOR FOR ")
        _ = try result(of: declare)
        while true {
            let page = try records(PostgresQuery(unsafeSQL: "FETCH \(Self.cursorPage) FROM \(cursor)"))
            for record in page { try body(record) }
            if page.count < Self.cursorPage { break }
        }
        _ = try result(of: PostgresQuery(unsafeSQL: "CLOSE \(cursor)"))
    }

    /// Rows per `FETCH`.
    static let cursorPage = 1_000
    /// Names cursors apart, so a row's handler may open another.
    private static let cursors = Atomic<Int>(0)
}

/// How portable SQL becomes PostgreSQL's (see `SQLSession` for the dialect).
enum PostgresDialect {
    private static let translated = Mutex<[String: String]>([:])

    /// The statement with its arguments bound: integers as `bigint`, text as `text`, NULL untyped (the
    /// server infers its type from where it stands).
    static func query(_ sql: String, _ arguments: [SQLValue], prefix: String = "") -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .text(let text): bindings.append(text)
            }
        }
        return PostgresQuery(unsafeSQL: prefix + translate(sql), binds: bindings)
    }

    /// `sql` with each `?` and `?N` outside quoted text and names as `$N`, and `COLLATE BINARY` as
    /// `COLLATE "C"`; remembered per text (statements are constants).
    static func translate(_ sql: String) -> String {
        if let known = translated.withLock({ $0[sql] }) { return known }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var numbered = false
        var quote: Character?
        var characters = sql[...]
        while let character = characters.popFirst() {
            if let open = quote {
                result.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                result.append(character)
            case "?":
                let digits = characters.prefix { $0.isASCII && $0.isNumber }
                if digits.isEmpty {
                    precondition(!numbered, "portable SQL mixes ? and ?N: \(sql)")
                    result.append("$\(next)")
                    next += 1
                } else {
                    precondition(next == 1, "portable SQL mixes ? and ?N: \(sql)")
                    numbered = true
                    result.append("$\(digits)")
                    characters = characters.dropFirst(digits.count)
                }
            default:
                result.append(character)
            }
        }
        precondition(quote == nil, "portable SQL with an unclosed quote: \(sql)")
        let final = result.replacingOccurrences(of: "COLLATE BINARY", with: "COLLATE \"C\"")
        translated.withLock { $0[sql] = final }
        return final
    }

    /// A cell as portable SQL reads it: integers (of any width; booleans as 0 or 1), text, or NULL.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return .integer(try cell.decode(Int64.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric:
            // Portable SQL casts an integer aggregate back (`CAST(SUM(x) AS BIGINT)`); a numeric here is a
            // query that forgot to, refused rather than read through a decimal.
            throw PostgresStoreError(.internal, "column \(cell.columnName) is numeric: cast it AS BIGINT in the query")
        default:
            return .text(try cell.decode(String.self))
        }
    }
}
