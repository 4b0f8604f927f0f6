/// How a failure should be reported to a scheduler. The `credits` executable maps each class to
/// exactly one exit code (see docs/ARCHITECTURE.md), in one place.
public enum FailureClass: Sendable, Equatable {
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

/// An error that knows its failure class and can say what to do about it.
public protocol ClassifiedError: Error, CustomStringConvertible {
    var failureClass: FailureClass { get }
}
