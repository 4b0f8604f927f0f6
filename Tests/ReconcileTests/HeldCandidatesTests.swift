import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal (issue 13): the plan walk holds top-ups as their orders and makes each a top-up item only
/// when its turn comes (`HeldCandidates`); the items it hands out, alone or merged with a stream
/// (the night's deductions), come in exactly `PlanItem.postingOrder`, as when every top-up was an
/// item in one sorted array.
@Suite struct HeldCandidatesTests {
    static let start = instant("2026-11-01T00:00:00Z")

    static func order(_ id: String, at instant: Instant) -> CompletedOrder {
        CompletedOrder(orderID: id, organisationID: "met", packageID: "small", credits: credits("100"),
                       price: Money(minorUnits: 1000, currency: .gbp), completedAt: instant, expiresAt: nil)
    }

    static func item(_ kind: PlanItem.Kind, _ key: String, at instant: Instant) -> PlanItem {
        PlanItem(kind: kind, idempotencyKey: key, organisationID: "met", effectiveAt: instant, credits: credits("1"))
    }

    /// Random instants on a coarse grid, so equal instants (ordered by kind, then key) are common.
    static func at(_ random: inout SeededRandom) -> Instant {
        start.adding(milliseconds: Int64(random.next() % 20) * 3_600_000)
    }

    @Test func popsEveryCandidateInPostingOrder_mergedWithAStream() {
        var random = SeededRandom(label: "HeldCandidatesTests")
        for _ in 0..<50 {
            let orders = (0..<Int(random.next() % 30)).map { Self.order("o\(random.next() % 1000)-\($0)", at: Self.at(&random)) }
            let kinds: [PlanItem.Kind] = [.allocation, .reversal, .expiry]
            let items = (0..<Int(random.next() % 10)).map {
                Self.item(kinds[Int(random.next() % 3)], "k\(random.next() % 1000)-\($0)", at: Self.at(&random))
            }
            let stream = (0..<Int(random.next() % 30)).map { Self.item(.deduction, "d\($0)", at: Self.at(&random)) }
                .sorted(by: PlanItem.postingOrder)
            let expected = (orders.map(PlanItem.topUp) + items + stream).sorted(by: PlanItem.postingOrder)

            var held = HeldCandidates(items: items, topUps: orders)
            var merged: [PlanItem] = []
            for deduction in stream {
                while let next = held.popFirst(before: deduction) { merged.append(next) }
                merged.append(deduction)
            }
            while let next = held.popFirst(before: nil) { merged.append(next) }
            #expect(merged.map(\.idempotencyKey) == expected.map(\.idempotencyKey), "seed \(random.seed)")
        }
    }

    @Test func aTopUpIsTheItemItsOrderMakes() {
        let order = Self.order("ord-1", at: Self.start)
        let item = PlanItem.topUp(order)
        #expect(item.kind == .topUp && item.idempotencyKey == IdempotencyKey.topUp(revolutOrderID: "ord-1"))
        #expect(item.effectiveAt == order.completedAt && item.order == order && item.organisationID == "met")
        #expect(item.references.revolutOrderID == "ord-1" && item.references.memo == "package small")
    }
}
