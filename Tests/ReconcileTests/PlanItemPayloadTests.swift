import Foundation
import Ledger
@testable import Reconcile
import Testing
import TestSupport

/// The stored form of plan items: every kind reads back as the same item, awkward text survives,
/// one item has one text, and anything else is refused rather than misread.
@Suite("plan item payload")
struct PlanItemPayloadTests {
    static let awkward = "quote \" backslash \\ slash / tab \t newline \n nul \u{0} bell \u{7} é 漢字 🧾 end"

    static let items: [PlanItem] = [
        PlanItem(
            kind: .allocation, idempotencyKey: "allocation:met-police:2026-11", organisationID: "met-police",
            effectiveAt: instant("2026-11-01T00:00:00Z"), credits: credits("100000"),
            price: Money(minorUnits: 4_500_000, currency: .gbp), expiresAt: instant("2026-12-01T00:00:00Z"),
            references: TransferReferences(planPeriod: "2026-11", memo: "plan standard")),
        PlanItem(
            kind: .topUp, idempotencyKey: "top-up:revolut:ord-1", organisationID: "nca",
            effectiveAt: instant("2026-11-05T12:00:00.123Z"),
            order: CompletedOrder(
                orderID: "ord-1", organisationID: "nca", packageID: "pack-10k", credits: credits("10000"),
                price: Money(minorUnits: 50_000, currency: .jpy), completedAt: instant("2026-11-05T12:00:00.123Z"),
                expiresAt: nil)),
        PlanItem(
            kind: .deduction, idempotencyKey: "deduction:cost-event:\(awkward)", organisationID: "europol-ec3",
            effectiveAt: instant("2026-11-20T10:00:00Z"), credits: credits("0.000001"), priorityRank: 1,
            overdraftLimit: credits("500.5"), carriedOver: true,
            references: TransferReferences(
                costEventID: awkward, team: "=cmd|' /C calc'!A0", investigation: "op-urgent", operation: "llm")),
        PlanItem(
            kind: .reversal, idempotencyKey: "reversal:revolut:ref-1", organisationID: "nca",
            effectiveAt: instant("2026-11-21T00:00:00Z"), credits: credits("2500"), grantKey: "top-up:revolut:ord-1",
            references: TransferReferences(revolutOrderID: "ref-1")),
        PlanItem(
            kind: .expiry, idempotencyKey: "expiry:allocation:a:2026-10", organisationID: "a",
            effectiveAt: instant("2026-11-01T00:00:00Z"), grantKey: "allocation:a:2026-10"),
    ]

    @Test("every kind reads back as the same item, and writes back as the same text")
    func roundTrip() throws {
        for item in Self.items {
            let payload = item.payload
            let read = try PlanItem(payload: payload)
            #expect(read == item)
            #expect(read.payload == payload, "one item, one text: the digest is taken over it")
        }
    }

    @Test("integers are written as their decimal text, at Int64's edges and around zero")
    func integersAtTheEdges() throws {
        for value: Int64 in [.min, .min + 1, -1_000_000_000_000, -10, -9, -1, 0, 1, 9, 10, 1_796_083_200_000, .max] {
            let item = PlanItem(
                kind: .deduction, idempotencyKey: "k", organisationID: "a",
                effectiveAt: Instant(millisecondsSinceEpoch: value), credits: Credits(microcredits: value),
                overdraftLimit: Credits(microcredits: value))
            let payload = item.payload
            #expect(payload.hasPrefix(#"["plan-item/2","deduction","k","a",\#(value),\#(value),null,"#), "\(value)")
            #expect(try PlanItem(payload: payload) == item)
        }
    }

    @Test("the text is a JSON array any JSON reader accepts, with integer amounts")
    func isJSON() throws {
        let payload = Self.items[2].payload
        let array = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [Any])
        #expect(array.first as? String == PlanItemPayload.format)
        #expect(array[5] as? Int == 1, "credits in micro-credits")
        #expect(array[21] as? String == Self.awkward)
    }

    @Test("a plan stored as keyed JSON by an earlier version still reads")
    func legacyKeyedJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for item in Self.items {
            let legacy = String(decoding: try encoder.encode(item), as: UTF8.self)
            #expect(try PlanItem(payload: legacy) == item)
        }
    }

    @Test("anything but a well-formed item is refused", arguments: [
        "", "[]", "[", "not json", #"["plan-item/1","deduction"]"#,
        #"["plan-item/2","deduction","k","org",1,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null,"extra"]"#,
        #"["plan-item/2","deduction","k","org",1,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null]"#,
        #"["plan-item/2","refund","k","org",1,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#,
        #"["plan-item/2","deduction","k","org","1",2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#,
        #"["plan-item/2","allocation","k","org",1,2,5,null,null,null,null,null,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#,
        #"["plan-item/2","deduction","k\ud800","org",1,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#,
        #"["plan-item/2","deduction","k","org",99999999999999999999,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#,
    ])
    func refusesMalformed(payload: String) {
        #expect(throws: (any Error).self) { try PlanItem(payload: payload) }
    }

    @Test("the well-formed twin of the refused cases reads")
    func wellFormedTwin() throws {
        let payload = #"["plan-item/2","deduction","k","org",1,2,null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,null,null,null,null,null,null,null]"#
        let item = try PlanItem(payload: payload)
        #expect(item.kind == .deduction && item.credits == Credits(microcredits: 2) && item.priorityRank == 3)
        #expect(item.payload == payload)
    }
}
