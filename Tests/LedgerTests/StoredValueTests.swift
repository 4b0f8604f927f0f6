import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: an enum stored as text reads back through its raw value, and a text this version does
/// not know (written by a newer version, or by hand) is a `StorageError` naming the file, table,
/// column and value, never a crash.
@Suite struct StoredValueTests {
    let directory = TemporaryDirectory("stored-values")

    func ledgerWithPlan() throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        try ledger.write { tx in
            _ = try tx.savePlan(
                asOf: instant("2026-12-01T00:00:00Z"), agedAfterDays: 7, ledgerPosition: 0,
                digest: String(repeating: "0", count: 64), seal: String(repeating: "1", count: 64), summary: "0 items, 1 findings",
                totals: [PlanTotal(organisationID: "met", kind: .topUp, transfers: 1, credits: credits("5"))],
                findings: [StoredFinding(seq: 0, severity: .exception, code: .orderNotTied, organisationID: nil,
                                         subject: "ord_1", detail: "no tie")])
        }
        return ledger
    }

    @Test func storedEnums_readBackAsWritten() throws {
        let ledger = try ledgerWithPlan()
        let plan = try #require(try ledger.read { try $0.latestPlan() })
        #expect(plan.status == .planned)
        #expect(plan.totals.map(\.kind) == [.topUp])
        #expect(plan.findings.map(\.severity) == [.exception])
        #expect(plan.findings.map(\.code) == [.orderNotTied])
        let text = try ledger.read { try String.fetchAll($0.db, sql: "SELECT code FROM reconcile_findings") }
        #expect(text == ["orderNotTied"], "the stored text is the raw value")
    }

    @Test func unknownStoredCode_isAStorageErrorNamingTableColumnAndValue() throws {
        let ledger = try ledgerWithPlan()
        try ledger.write { try $0.db.execute(sql: "UPDATE reconcile_findings SET code = 'someFutureRule'") }
        for read in [{ _ = try ledger.read { try $0.latestPlan() } },
                     { _ = try ledger.read { try $0.latestPlanFindings() } }] {
            let error = try #require(throws: StorageError.self, performing: read)
            #expect(error.reason == .unknownStoredValue)
            #expect(error.failureClass == .badData)
            #expect(error.path == ledger.path)
            #expect(error.description.contains("table reconcile_findings, column code holds 'someFutureRule'"))
            #expect(error.description.hasPrefix(ledger.path))
        }
    }
}
