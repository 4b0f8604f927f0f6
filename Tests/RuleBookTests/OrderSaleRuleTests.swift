import Foundation
@testable import Ledger
import Reconcile
@testable import Service
import Testing
import TestSupport

/// Goal: a Revolut order is tied to what was sold by one rule on both paths. The webhook (live) and
/// reconcile (batch) used to look purchases up in different orders; only the webhook refused a
/// purchase already paid by another order; and with a package missing from the configuration the
/// webhook credited it with no expiry while reconcile raised `unknownPackage`.
@Suite struct OrderSaleRuleTests {
    static let pack = CreditPackage(
        id: "pack_10k", name: "10,000 credits", credits: Credits(10_000),
        prices: [Money(minorUnits: 45_000, currency: .gbp)], expiresAfterDays: 365)

    /// The order on each path: what the webhook would credit, and what reconcile plans or finds.
    struct Answer: Equatable {
        let credited: CompletedOrder?
        let finding: FindingCode?
    }

    static func answers(
        orderID: String = "order-2", reference: String = "cpk_1", metadata: [String: String],
        purchases: [Purchase] = []
    ) async throws -> (live: CompletedOrder?, batch: Answer) {
        let directory = TemporaryDirectory("order-sale")
        var configured = SampleWorld.configuration([SampleWorld.organisation("met")])
        configured.packages = [pack]
        let configuration = configured
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: TestClock().provider)
        _ = try await ledger.write { tx in
            _ = try tx.load(configuration)
            for purchase in purchases { try tx.recordPurchase(purchase) }
        }
        let order = RevolutOrder(
            id: orderID, type: .payment, state: .completed, amountMinorUnits: 45_000, currencyCode: "GBP",
            merchantReference: reference, metadata: metadata, createdAt: "2026-11-10T11:58:00Z",
            updatedAt: "2026-11-10T12:00:00Z")
        let live = try await ledger.read { reader in
            try LedgerWebhookHandler.completedOrder(order, reader: reader, receivedAt: instant("2026-11-10T12:00:01Z"))
        }
        let observation = try #require(LedgerWebhookHandler.observation(of: order))
        _ = try await ledger.write { tx in try tx.observe([observation]) }
        let summary = try Reconciler.reconcile(ledger, options: .init(asOf: instant("2026-11-20T00:00:00Z")))
        let planned = summary.items["top_up"] == 1
        let finding = summary.exceptions.first { $0.subject == orderID }?.code
        return (live, Answer(credited: planned ? live : nil, finding: finding))
    }

    @Test("an order tied by metadata is credited alike, with the package's expiry")
    func tiedByMetadata() async throws {
        let (live, batch) = try await Self.answers(metadata: ["organisation_id": "met", "package_id": "pack_10k"])
        let credited = try #require(live)
        #expect(credited.credits == Credits(10_000) && credited.expiresAt != nil)
        #expect(batch == Answer(credited: credited, finding: nil))
    }

    @Test("a package missing from the configuration is credited on neither path")
    func unknownPackage() async throws {
        let (live, batch) = try await Self.answers(metadata: ["organisation_id": "met", "package_id": "pack_gone"])
        #expect(live == nil, "the webhook must not credit an unknown package (expiry unknown)")
        #expect(batch == Answer(credited: nil, finding: .unknownPackage))
    }

    @Test("a purchase already paid by another order vouches for neither path")
    func purchaseOfAnotherOrder() async throws {
        let purchase = Purchase(
            reference: "cpk_1", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
            price: Money(minorUnits: 45_000, currency: .gbp), revolutOrderID: "order-1",
            createdAt: instant("2026-11-10T11:00:00Z"))
        let (live, batch) = try await Self.answers(
            orderID: "order-2", metadata: ["organisation_id": "met", "package_id": "pack_10k"], purchases: [purchase])
        #expect(live == nil)
        #expect(batch == Answer(credited: nil, finding: .purchaseOfAnotherOrder))
    }

    /// Reconcile reads each order's purchases with the order (`LedgerReader.forEachOrder`) while the webhook
    /// looks them up; both must pick the same one.
    @Test("the purchase attached to the order decides before the one its reference names, on both paths")
    func purchaseOfTheOrderFirst() async throws {
        let ofReference = Purchase(
            reference: "cpk_1", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
            price: Money(minorUnits: 45_000, currency: .gbp), createdAt: instant("2026-11-10T11:00:00Z"))
        let attached = Purchase(
            reference: "cpk_2", organisationID: "met", packageID: "pack_10k", credits: Credits(12_000),
            price: Money(minorUnits: 45_000, currency: .gbp), revolutOrderID: "order-2",
            createdAt: instant("2026-11-10T11:30:00Z"))
        let (live, batch) = try await Self.answers(metadata: [:], purchases: [ofReference, attached])
        let credited = try #require(live)
        #expect(credited.credits == Credits(12_000), "the attached purchase's credits")
        #expect(batch == Answer(credited: credited, finding: nil))
    }

    @Test("a purchase found by the order's reference ties it on both paths, at the purchase's terms")
    func purchaseByReference() async throws {
        let purchase = Purchase(
            reference: "cpk_1", organisationID: "met", packageID: "pack_10k", credits: Credits(11_000),
            price: Money(minorUnits: 45_000, currency: .gbp), createdAt: instant("2026-11-10T11:00:00Z"))
        let (live, batch) = try await Self.answers(metadata: [:], purchases: [purchase])
        let credited = try #require(live)
        #expect(credited.credits == Credits(11_000) && credited.organisationID == "met")
        #expect(batch == Answer(credited: credited, finding: nil))
    }
}
