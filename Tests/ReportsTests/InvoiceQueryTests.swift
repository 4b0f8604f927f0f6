import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("invoice from the ledger")
struct InvoiceQueryTests {
    @Test("plan fee, packages with order ids, reversals and priced adjustments; tax at the organisation's rate")
    func draft() throws {
        let directory = TemporaryDirectory("invoice")
        let database = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a")])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "a", source: .allocation, credits: credits("10000"),
                price: Money(minorUnits: 45000, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z"),
                references: TransferReferences(planPeriod: "2026-11")))
            let topUp = try tx.grant(GrantRequest(
                idempotencyKey: "top", organisationID: "a", source: .topUp, credits: credits("5000"),
                price: Money(minorUnits: 25000, currency: .gbp), effectiveAt: instant("2026-11-14T09:30:00Z"),
                references: TransferReferences(revolutOrderID: "ord_1")))
            _ = try tx.reverse(grantID: topUp.transfer.grantID!, credits: credits("1000"),
                               at: instant("2026-11-20T00:00:00Z"), idempotencyKey: "refund",
                               references: TransferReferences(revolutOrderID: "ord_1", memo: "Partial refund"))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "adj", organisationID: "a", source: .adjustment, credits: credits("100"),
                price: Money(minorUnits: 450, currency: .gbp), effectiveAt: instant("2026-11-21T00:00:00Z")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "free", organisationID: "a", source: .adjustment, credits: credits("50"),
                effectiveAt: instant("2026-11-21T00:00:00Z")))
            _ = try tx.spend(SpendRequest(
                idempotencyKey: "use", organisationID: "a", credits: credits("12.5"),
                effectiveAt: instant("2026-11-22T00:00:00Z"), priority: .p1, policy: .allowOverdraft(limit: .zero),
                references: TransferReferences(team: "analysis", investigation: "op-urgent")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "late", organisationID: "a", source: .topUp, credits: credits("5000"),
                price: Money(minorUnits: 25000, currency: .gbp), effectiveAt: instant("2026-12-02T00:00:00Z"),
                references: TransferReferences(revolutOrderID: "ord_2")))
        }
        let invoice = try database.read { reader in
            try InvoiceQuery.draft(
                reader, organisation: try reader.organisation("a")!, issuer: try reader.issuer()!,
                period: .month(year: 2026, month: 11), number: "CR-000001",
                issueDate: LocalDate(year: 2026, month: 12, day: 1)!)
        }
        #expect(invoice.lines.map(\.kind) == [.planFee, .package, .adjustment, .adjustment])
        #expect(invoice.lines.map(\.amount.minorUnits) == [45000, 25000, -5000, 450])
        #expect(invoice.lines[1].reference == "ord_1")
        #expect(invoice.lines[1].date == LocalDate(year: 2026, month: 11, day: 14)!)
        #expect(invoice.lines[2].description == "Partial refund")
        #expect(invoice.subtotal.minorUnits == 65450)
        #expect(invoice.taxRatePercent == ExactDecimal(significand: 200_000, scale: 4))
        #expect(invoice.tax.minorUnits == 13090)
        #expect(invoice.total.minorUnits == 78540)
        #expect(invoice.dueDate == LocalDate(year: 2026, month: 12, day: 31)!)
        #expect(invoice.seller.name == "Credits Ltd" && invoice.buyer.name == "Org a")
        #expect(invoice.appendix.count == 1)
        #expect(invoice.appendix.first?.team == "analysis" && invoice.appendix.first?.investigation == "op-urgent")
        #expect(invoice.appendix.first?.consumption.credits == credits("12.5"))

        let out = URL(fileURLWithPath: directory.path)
        let urls = try InvoiceWriter().write(invoice, to: out)
        let sheet = try XLSXFile(url: urls[0]).sheet("Invoice")
        let totals = sheet.cells.values.filter { $0.formula != nil }.compactMap(\.number).sorted()
        #expect(totals == [654.50, 785.40])
    }
}
