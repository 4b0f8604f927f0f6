/// How a failure should be reported to a scheduler. The `credits` executable maps each class to
/// exactly one exit code (see docs/ARCHITECTURE.md), in one place.
/// The raw value is the name the `--json` error envelope prints as `error.kind`.
public enum FailureClass: String, Sendable, Equatable, Codable {
    /// The command line was wrong (64).
    case usage
    /// Input data (a file, the configuration) was wrong (65).
    case badData
    /// A named input, or the database, does not exist (66).
    case inputMissing
    /// A bug or a broken invariant (70).
    case `internal`
    /// The file system or the database file failed (74).
    case io
    /// Another run holds the lock, or the database stayed busy (75).
    case locked
}

/// How a stage ends, as the exit code a scheduler acts on (sysexits.h numbering): the one table
/// every command maps to, listed in docs/CODES.md.
public enum StageExit: Int32, Sendable, CaseIterable {
    /// Done.
    case done = 0
    /// Done, with exceptions for a person to review (rejected records, reconcile exceptions).
    case doneWithExceptions = 3
    /// The command line was wrong.
    case usage = 64
    /// Input data (a file, the configuration, a plan) was wrong.
    case badData = 65
    /// A named input, or the database, does not exist.
    case inputMissing = 66
    /// A bug or a broken ledger invariant.
    case internalError = 70
    /// The file system or the database file failed.
    case io = 74
    /// Another run holds the lock, the database stayed busy, or the plan went stale: try again later.
    case tryLater = 75

    /// The exit for a failure of `failure`'s class.
    public init(_ failure: FailureClass) {
        switch failure {
        case .usage: self = .usage
        case .badData: self = .badData
        case .inputMissing: self = .inputMissing
        case .internal: self = .internalError
        case .io: self = .io
        case .locked: self = .tryLater
        }
    }
}

/// An error that knows its failure class and can say what to do about it.
public protocol ClassifiedError: Error, CustomStringConvertible {
    var failureClass: FailureClass { get }
}
