import Crypto
import Foundation
import GRDB

/// The outcome of `credits ledger verify`.
public struct VerificationReport: Sendable, Codable, Equatable {
    public struct Check: Sendable, Codable, Equatable {
        /// The invariant, named as a rule (`balancesSumToZero`).
        public let name: String
        public let passed: Bool
        /// What failed, with the first offending rows; empty when passed.
        public let detail: String
    }

    public let checks: [Check]
    /// SHA-256 of the canonical ledger dump; equal digests mean equal ledgers.
    public let digest: String
    public let transfers: Int
    public let accounts: Int
    public let grants: Int

    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// What the report says besides its checks.
    struct Summary: Sendable {
        let digest: String
        let transfers: Int
        let accounts: Int
        let grants: Int
    }
}

extension VerificationReport {
    init(checks: [Check], summary: Summary) {
        self.init(checks: checks, digest: summary.digest, transfers: summary.transfers, accounts: summary.accounts,
                  grants: summary.grants)
    }
}

extension LedgerReader {
    /// Checks every invariant of the ledger that the database alone can show, and computes the
    /// digest. Each check is independent SQL over the raw tables, not the posting code's view
    /// (`LedgerChecks`, the same checks PostgreSQL runs).
    public func verify() throws -> VerificationReport {
        VerificationReport(checks: try verificationChecks(), summary: try digestAndCounts())
    }

    /// Every invariant's check, in `LedgerChecks` order.
    func verificationChecks() throws -> [VerificationReport.Check] {
        var checks: [VerificationReport.Check] = []
        for check in LedgerChecks.checks(.sqlite) {
            switch check {
            case .sql(let name, let query):
                checks.append(.init(name: name, offending: try String.fetchAll(db, sql: query + " LIMIT 5")))
            case .grantCosts:
                checks.append(.init(name: "grantCostsExact", offending: try grantCostViolations()))
            }
        }
        return checks
    }

    /// The digest and the row counts the report shows.
    func digestAndCounts() throws -> VerificationReport.Summary {
        let counts = LedgerChecks.countQueries
        return VerificationReport.Summary(
            digest: try digest(), transfers: try Int.fetchOne(db, sql: counts.transfers) ?? 0,
            accounts: try Int.fetchOne(db, sql: counts.accounts) ?? 0,
            grants: try Int.fetchOne(db, sql: counts.grants) ?? 0)
    }

    private func grantCostViolations() throws -> [String] {
        let rows = try Row.fetchCursor(db, sql: LedgerChecks.grantCostRows)
        var check = LedgerChecks.GrantCostCheck()
        while !check.isFull, let row = try rows.next() {
            check.add(id: row[0], credits: row[1], remaining: row[2], cost: row[3], drawnCost: row[4])
        }
        return check.violations
    }

    /// SHA-256 over a canonical, ordered dump of accounts, transfers, grants and draws. The wall-clock
    /// `recorded_at` is left out, so the same inputs processed at different times give the same digest.
    public func digest() throws -> String {
        var dump = CanonicalDump()
        let db = try self.db
        for query in LedgerChecks.digestQueries { try dump.feed(query, from: db) }
        return dump.finalize()
    }
}

extension VerificationReport.Check {
    /// A check from the rows that offend it: passed when there are none; the first five described.
    init(name: String, offending: [String]) {
        self.init(name: name, passed: offending.isEmpty, detail: offending.prefix(5).joined(separator: "; "))
    }
}
