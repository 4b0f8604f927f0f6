import Testing
@testable import Ledger

/// Goal (issue 17): portable SQL becomes the PostgreSQL statement it means: parameters numbered in
/// order (or kept by number), nothing inside quoted text or names touched, byte order spelled `COLLATE
/// "C"`.
@Suite struct PostgresDialectTests {
    @Test func parameters_areNumberedInOrder_outsideQuotes() {
        #expect(PostgresDialect.translate("SELECT a FROM t WHERE b = ? AND c IN (?, ?) AND d = '?' AND \"e?\" = ?")
            == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) AND d = '?' AND \"e?\" = $4")
    }

    @Test func numberedParameters_keepTheirNumbers() {
        #expect(PostgresDialect.translate("SELECT ?2, ?1 WHERE x = ?12 OR y = ?1")
            == "SELECT $2, $1 WHERE x = $12 OR y = $1")
    }

    @Test func quotesInsideQuotes_andByteOrder() {
        #expect(PostgresDialect.translate("SELECT 'it''s ?' AS x, ? FROM t ORDER BY k COLLATE BINARY")
            == "SELECT 'it''s ?' AS x, $1 FROM t ORDER BY k COLLATE \"C\"")
    }

    @Test func arguments_areBoundAsTheyAre() {
        let query = PostgresDialect.query("SELECT ? WHERE ? IS NULL", [.integer(-7), .null], prefix: "EXPLAIN ")
        #expect(query.sql == "EXPLAIN SELECT $1 WHERE $2 IS NULL")
        #expect(query.binds.count == 2)
    }
}
