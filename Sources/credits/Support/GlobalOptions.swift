import ArgumentParser
import Foundation
import Ledger

/// Options every stage takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: """
            The ledger: a SQLite file, or a postgres://user:password@host:port/database URL (every command runs on either). \
            Default: $CREDITS_DB or ./credits.sqlite.
            """)
    var db: String = ProcessInfo.processInfo.environment["CREDITS_DB"] ?? "credits.sqlite"

    @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout.")
    var json = false

    @Flag(name: .long, help: "Wait for another run of the same stage to finish instead of exiting 75.")
    var wait = false

    @Option(
        name: .long,
        help: "Use this instant (ISO 8601) as the current time, for reproducible runs. Default: $CREDITS_NOW or the clock.")
    var now: String?

    /// An empty `--db` (or `CREDITS_DB=""`) is a usage error (64), refused before anything is opened
    /// or locked: it used to fail to open (66) after leaving `.STAGE.lock` in the working directory.
    func validate() throws {
        if db.isEmpty { throw ValidationError("--db is empty: give the ledger database's path") }
        do { _ = try StoreLocation.parse(db) } catch let error as StoreLocationError { throw ValidationError(error.message) }
    }

    /// Where the ledger is: a SQLite file or a PostgreSQL database (`validate()` refused any other URL).
    var store: StoreLocation {
        (try? StoreLocation.parse(db)) ?? .sqlite(path: db)
    }

    /// The clock every part of the run reads; fixed when `--now` or `$CREDITS_NOW` is given.
    func clock() throws -> @Sendable () -> Instant {
        guard let text = now ?? ProcessInfo.processInfo.environment["CREDITS_NOW"] else { return { Instant(Date()) } }
        switch Instant.parse(text) {
        case .success(let fixed): return { fixed }
        case .failure(let error): throw ValidationError("--now \(text): \(error)")
        }
    }
}

/// Parses a command-line instant: a full ISO 8601 instant, or a date meaning its start in UTC.
func parseInstantArgument(_ text: String, option: String) throws -> Instant {
    if let date = LocalDate.parse(text) { return date.startInstant(in: TimeZone(identifier: "UTC")!) }
    switch Instant.parse(text) {
    case .success(let instant): return instant
    case .failure(let error): throw ValidationError("\(option) \(text): \(error)")
    }
}

func parseCreditsArgument(_ text: String, option: String) throws -> Credits {
    switch Credits.parse(text) {
    case .success(let value): return value
    case .failure(let error): throw ValidationError("\(option) \(text): \(error)")
    }
}
