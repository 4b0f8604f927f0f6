import Ledger

/// Tests write as one operator, so each test body need not name who acts. The library itself has no
/// such default: every write there names its actor (`LedgerDatabase.write(as:)`), and the tests of the
/// audit trail (`ActorTests`) name theirs.
extension Actor {
    public static let tests = Actor.operator(name: "tests")
}

extension LedgerDatabase {
    public func write<T>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        try write(as: .tests, body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (LedgerTransaction) throws -> T) async throws -> T {
        try await write(as: .tests, body)
    }

    public func writeEach<Unit, Outcome>(
        _ units: [Unit], _ body: (LedgerTransaction, Unit) throws -> Outcome
    ) throws -> [Result<Outcome, any Error>] {
        try writeEach(units, actor: { _ in .tests }, body)
    }
}
