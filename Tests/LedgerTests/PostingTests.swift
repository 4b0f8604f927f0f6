import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: the posting rules of the ledger, each checked against hand-computed expectations and
/// followed by `verify`, so every test also proves the invariants hold after it.
@Suite struct PostingTests {
    let directory = TemporaryDirectory("posting")

    func grant(
        _ key: String, _ amount: String, price: Int64 = 0, priority: Int? = nil, expires: String? = nil,
        source: GrantSource = .topUp, at: String = "2026-11-01T10:00:00Z", organisation: String = "met"
    ) -> GrantRequest {
        GrantRequest(
            idempotencyKey: key, organisationID: organisation, source: source, credits: credits(amount),
            price: Money(minorUnits: price, currency: .gbp), effectiveAt: instant(at),
            expiresAt: expires.map(instant), burnRank: priority)
    }

    func spend(
        _ key: String, _ amount: String, priority: Priority = .p3, policy: SpendPolicy = .withinSpendable,
        at: String = "2026-11-02T10:00:00Z"
    ) -> SpendRequest {
        SpendRequest(
            idempotencyKey: key, organisationID: "met", credits: credits(amount), effectiveAt: instant(at),
            priority: priority, policy: policy, references: TransferReferences(costEventID: key))
    }

    func expectVerified(_ ledger: LedgerDatabase) throws {
        let report = try ledger.read { try $0.verify() }
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
    }

    @Test func burnDown_followsPriorityThenExpiryThenAge() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        try ledger.write { tx in
            _ = try tx.grant(grant("late-expiry", "100", priority: 20, expires: "2027-06-01T00:00:00Z"))
            _ = try tx.grant(grant("no-expiry", "100", priority: 20))
            _ = try tx.grant(grant("soon-expiry", "100", priority: 20, expires: "2026-12-01T00:00:00Z"))
            _ = try tx.grant(grant("low-priority", "100", priority: 30, expires: "2026-11-15T00:00:00Z"))
            _ = try tx.grant(grant("first-priority", "100", priority: 10))
        }
        let posting = try ledger.write { try $0.spend(spend("use", "350")) }
        let order = try ledger.read { reader in
            try reader.draws(ofTransfer: posting.transfer.id).map { draw in
                try reader.transfer(id: try reader.grant(id: draw.grantID!)!.transferID)!.idempotencyKey
            }
        }
        #expect(order == ["first-priority", "soon-expiry", "late-expiry", "no-expiry"])
        let remaining = try ledger.read { try $0.grants(of: "met").map(\.remaining.description) }
        #expect(remaining == ["0", "50", "0", "100", "0"])
        try expectVerified(ledger)
    }

    @Test func burnDown_skipsGrantsExpiredAtTheSpendTime() throws {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("met", overdraft: credits("1000"))])
        try ledger.write { tx in
            _ = try tx.grant(grant("expired", "100", priority: 10, expires: "2026-11-02T00:00:00Z"))
            _ = try tx.grant(grant("valid", "100", priority: 20))
        }
        let posting = try ledger.write { try $0.spend(spend("use", "150", policy: .allowOverdraft(limit: credits("1000")))) }
        #expect(posting.overdraft == credits("50"), "the expired grant's credits are not spendable after its expiry")
        try expectVerified(ledger)
    }

    @Test func cost_drawsAddUpExactlyToThePrice() throws {
        // 3 credits for GBP 1.00: thirds of a penny must not be lost or invented.
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try ledger.write { try $0.grant(grant("pack", "3", price: 100)) }
        var costs: [Int64] = []
        for index in 0..<3 {
            costs.append(try ledger.write { try $0.spend(spend("use-\(index)", "1")) }.transfer.money.minorUnits)
        }
        #expect(costs == [33, 34, 33], "cumulative half-even: round(100/3)=33, round(200/3)=67, 100")
        #expect(costs.reduce(0, +) == 100)
        try expectVerified(ledger)
    }

    @Test func reservation_stopsLowerPriorityAtTheFloor() throws {
        let organisation = SampleWorld.organisation(
            "met", reservations: [Reservation(id: "p1", credits: credits("40"), maxPriority: .p1)])
        let ledger = try SampleWorld.ledger(in: directory, organisations: [organisation])
        _ = try ledger.write { try $0.grant(grant("pack", "100")) }
        let balance = try ledger.read { try $0.balance(of: "met") }
        #expect(balance.spendable(for: .p3) == credits("60"))
        #expect(balance.spendable(for: .p1) == credits("100"))

        _ = try ledger.write { try $0.spend(spend("routine", "60", priority: .p3)) }
        #expect(throws: PostingRejection.exceedsSpendable(requested: credits("1"), spendable: .zero, blockedBy: .reserveFloor)) {
            try ledger.write { try $0.spend(spend("routine-more", "1", priority: .p3)) }
        }
        _ = try ledger.write { try $0.spend(spend("urgent", "40", priority: .p1)) }
        #expect(throws: PostingRejection.exceedsSpendable(requested: credits("1"), spendable: .zero, blockedBy: .insufficientBalance)) {
            try ledger.write { try $0.spend(spend("urgent-more", "1", priority: .p1)) }
        }
        try expectVerified(ledger)
    }

    @Test func idempotency_sameKeySameContentPostsOnce() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let first = try ledger.write { try $0.grant(grant("alloc-1", "100")) }
        let second = try ledger.write { try $0.grant(grant("alloc-1", "100")) }
        #expect(first.status == .posted)
        #expect(second.status == .exists)
        #expect(second.transfer == first.transfer)
        #expect(try ledger.read { try $0.balance(of: "met").available } == credits("100"))
        #expect(throws: PostingRejection.idempotencyKeyReusedWithDifferentContent(key: "alloc-1", existingTransferID: 1)) {
            try ledger.write { try $0.grant(grant("alloc-1", "101")) }
        }
        try expectVerified(ledger)
    }

    @Test func overdraft_isSettledByTheNextGrantAtItsCostBasis() throws {
        let organisation = SampleWorld.organisation("met", overdraft: credits("50"))
        let ledger = try SampleWorld.ledger(in: directory, organisations: [organisation])
        let usage = try ledger.write { try $0.spend(spend("late-usage", "30", policy: .allowOverdraft(limit: credits("50")))) }
        #expect(usage.overdraft == credits("30"))
        #expect(throws: PostingRejection.exceedsOverdraftLimit(requested: credits("21"), available: credits("-30"), limit: credits("50"))) {
            try ledger.write { try $0.spend(spend("too-much", "21", policy: .allowOverdraft(limit: credits("50")))) }
        }
        _ = try ledger.write { try $0.grant(grant("pack", "100", price: 1000)) }
        let draws = try ledger.read { try $0.draws(ofTransfer: usage.transfer.id) }
        #expect(draws.map(\.credits) == [credits("30"), credits("-30"), credits("30")])
        #expect(draws.map(\.cost.minorUnits).reduce(0, +) == 300)
        #expect(try ledger.read { try $0.grants(of: "met")[0].remaining } == credits("70"))
        try expectVerified(ledger)
    }

    @Test func expiryAndReversal_takeOnlyWhatIsLeft() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let pack = try ledger.write { try $0.grant(grant("pack", "100", price: 4500)) }
        _ = try ledger.write { try $0.spend(spend("use", "30")) }
        let grantID = try #require(pack.transfer.grantID)
        let reversal = try ledger.write {
            try $0.reverse(grantID: grantID, credits: credits("100"), at: instant("2026-11-03T00:00:00Z"), idempotencyKey: "refund")
        }
        #expect(reversal.posting?.transfer.amount == credits("70"))
        #expect(reversal.alreadySpent == credits("30"))
        #expect(reversal.posting?.transfer.money.minorUnits == 3150)
        let expiry = try ledger.write { try $0.expire(grantID: grantID, at: instant("2026-12-01T00:00:00Z"), idempotencyKey: "exp") }
        #expect(expiry == nil, "nothing is left to expire")
        try expectVerified(ledger)
    }

    @Test func appendOnly_theSchemaRefusesEditingTransfers() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try ledger.write { try $0.grant(grant("pack", "100")) }
        #expect(throws: StorageError.self) {
            try ledger.write { tx in try tx.db.execute(sql: "UPDATE transfers SET amount = 1") }
        }
        #expect(throws: StorageError.self) {
            try ledger.write { tx in try tx.db.execute(sql: "DELETE FROM transfers") }
        }
    }

    @Test func verify_namesTheInvariantATamperedLedgerBreaks() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try ledger.write { try $0.grant(grant("pack", "100", price: 4500)) }
        _ = try ledger.write { try $0.spend(spend("use", "30")) }
        let healthy = try ledger.read { try $0.verify() }
        #expect(healthy.passed)

        // Tamper as an attacker with SQL access would: a balance edited behind the ledger's back.
        try ledger.write { tx in
            try tx.db.execute(sql: "UPDATE accounts SET credits_posted = credits_posted + 5 WHERE id = 'org:met'")
        }
        let tampered = try ledger.read { try $0.verify() }
        let failed = tampered.checks.filter { !$0.passed }.map(\.name)
        #expect(failed.contains("balancesSumToZero"))
        #expect(failed.contains("balancesDerivable"))
        #expect(tampered.digest != healthy.digest)
    }

    @Test func digest_isIndependentOfWallClock() throws {
        func build(_ label: String, clock: TestClock) throws -> String {
            let directory = TemporaryDirectory(label)
            let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")], clock: clock)
            _ = try ledger.write { try $0.grant(grant("pack", "100", price: 4500)) }
            _ = try ledger.write { try $0.spend(spend("use", "30")) }
            return try ledger.read { try $0.digest() }
        }
        #expect(try build("a", clock: TestClock("2026-11-01T00:00:00Z")) == build("b", clock: TestClock("2027-01-01T00:00:00Z")))
    }
}
