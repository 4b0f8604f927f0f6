import Foundation
import Ingest
import Ledger
import Reconcile
import Service
import Testing
import TestSupport

/// Goal: a Revolut order state means the same on every path. Ingest (batch) and the webhook's order
/// client (live) read the same order JSON into the same `RevolutOrderState`, and reconcile judges the
/// state ingest staged by that one vocabulary. Before it, ingest knew 8 states, the service 6 and
/// reconcile a list of strings, so a `declined` report row staged by ingest came out as
/// `orderStateUnknown`.
@Suite struct OrderStateRuleTests {
    /// Each state word as an export may spell it, with what reconcile should make of an order last seen in it.
    static let cases: [(word: String, state: RevolutOrderState, finding: FindingCode?)] = [
        ("pending", .pending, nil), ("PROCESSING", .processing, nil), ("authorised", .authorised, nil),
        ("cancelled", .cancelled, nil), ("FAILED", .failed, nil), ("declined", .declined, nil),
        ("REVERTED", .reverted, nil), ("IN_SETTLEMENT", .unknown("IN_SETTLEMENT"), .orderStateUnknown),
    ]

    static func orderJSON(state: String) -> String {
        """
        {"orders": [{"id": "order-1", "type": "payment", "state": "\(state)",
          "created_at": "2026-11-19T09:00:00Z", "updated_at": "2026-11-19T09:00:00Z",
          "amount": 45000, "currency": "GBP",
          "metadata": {"organisation_id": "met", "package_id": "pack_10k"},
          "merchant_order_data": {"reference": "cpk_1"}}]}
        """
    }

    @Test("ingest and the webhook's order client read every state word alike", arguments: cases.map(\.word))
    func bothPathsReadTheSameState(word: String) throws {
        let directory = TemporaryDirectory("order-state")
        let path = directory.file("orders.json")
        try Data(Self.orderJSON(state: word).utf8).write(to: URL(fileURLWithPath: path))
        let outcome = try #require(try RevolutOrderReader.read(path: path, columnMapping: nil).outcomes.first)
        guard case .order(let batch) = outcome else {
            Issue.record("\(word): ingest rejected the order: \(outcome)")
            return
        }

        struct List: Decodable { let orders: [RevolutOrder] }
        let live = try #require(try JSONDecoder().decode(List.self, from: Data(Self.orderJSON(state: word).utf8)).orders.first)

        let expected = try #require(Self.cases.first { $0.word == word }).state
        #expect(batch.state == expected)
        #expect(live.state == expected)
        #expect(batch.type == RevolutOrderType.payment)
        #expect(live.type == RevolutOrderType.payment)
    }

    @Test("reconcile judges a staged order's state by the same vocabulary", arguments: cases.map(\.word))
    func reconcileJudgesTheStagedState(word: String) throws {
        let directory = TemporaryDirectory("order-state-reconcile")
        let path = directory.file("orders.json")
        try Data(Self.orderJSON(state: word).utf8).write(to: URL(fileURLWithPath: path))
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try OrderIngester(store: ledger).ingest(path: path)
        let summary = try Reconciler.reconcile(ledger, options: .init(asOf: instant("2026-11-20T00:00:00Z")))
        let codes = Set(summary.exceptions.map(\.code))
        let expected = try #require(Self.cases.first { $0.word == word })
        #expect(codes.contains(FindingCode.orderStateUnknown) == (expected.finding == .orderStateUnknown),
                "\(word): \(codes.map(\.rawValue).sorted())")
        #expect(summary.items["top_up"] == nil, "\(word) is never credited")
    }
}
