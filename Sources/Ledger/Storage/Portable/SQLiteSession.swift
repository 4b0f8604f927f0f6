import GRDB

/// Portable SQL on a SQLite connection, through GRDB's statement cache (the texts are constants).
extension Database: SQLSession {
    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments.map(\.databaseValue)))
    }

    func records(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRecord] {
        let statement = try cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: StatementArguments(arguments.map(\.databaseValue)))
            .map(SQLRecord.init)
    }

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLColumns) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            cachedStatement(sql: sql), arguments: StatementArguments(arguments.map(\.databaseValue)))
        while let row = try rows.next() { try body(row) }
    }
}

extension SQLRecord {
    init(_ row: Row) {
        values = row.databaseValues.map { value in
            switch value.storage {
            case .null: .null
            case .int64(let integer): .integer(integer)
            case .string(let text): .text(text)
            case .double, .blob: preconditionFailure("portable SQL reads integers and text only, not \(value)")
            }
        }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let integer): integer.databaseValue
        case .text(let text): text.databaseValue
        }
    }
}

/// A GRDB row read by position, as the portable row mappings read it (`LedgerReader.transfer`).
extension Row: SQLColumns {
    func int64(_ column: Int32) -> Int64 { self[Int(column)] }
    func int64OrNil(_ column: Int32) -> Int64? { self[Int(column)] }
    func text(_ column: Int32) -> String { self[Int(column)] }
    func textOrNil(_ column: Int32) -> String? { self[Int(column)] }
}
