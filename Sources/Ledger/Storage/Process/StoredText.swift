/// Reading an enum back from the text it is stored as: the enum's raw value is the one mapping
/// between the two (written with `rawValue`, read here), and a text the enum does not know is a
/// `StorageError` naming the table, column and value, never a crash.
extension RawRepresentable where RawValue == String {
    init(stored text: String, table: String, column: String) throws {
        guard let value = Self(rawValue: text) else {
            throw StorageError.unknownStoredValue(text, table: table, column: column)
        }
        self = value
    }
}

extension Currency {
    /// The currency stored in `table.currency`.
    init(stored code: String, table: String) throws {
        guard let currency = Currency(code: code) else {
            throw StorageError.unknownStoredValue(code, table: table, column: "currency")
        }
        self = currency
    }
}

extension LocalDate {
    /// The date stored as `YYYY-MM-DD` in `table.column`.
    init(stored text: String, table: String, column: String) throws {
        guard let date = LocalDate.parse(text) else {
            throw StorageError.unknownStoredValue(text, table: table, column: column)
        }
        self = date
    }
}

extension Actor {
    /// The actor stored in `transfers.actor`.
    init(stored text: String) throws {
        guard let actor = Actor(storedText: text) else {
            throw StorageError.unknownStoredValue(text, table: "transfers", column: "actor")
        }
        self = actor
    }
}
