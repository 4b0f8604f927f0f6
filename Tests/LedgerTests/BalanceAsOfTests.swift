import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: an organisation's balance at any past instant, read without posting anything, is what a replay
/// of the ledger up to that instant gives, whatever order the transfers were posted in (late usage is
/// posted after later usage); expiries and reservation changes count from when they took effect.
@Suite struct BalanceAsOfTests {
    let directory = TemporaryDirectory("balance-as-of")

    /// One posting of a randomised ledger, at its effective time.
    enum Operation {
        case grant(key: String, credits: Credits, at: Instant)
        case spend(key: String, credits: Credits, at: Instant)

        var effectiveAt: Instant {
            switch self {
            case .grant(_, _, let at), .spend(_, _, let at): at
            }
        }

        func post(_ tx: LedgerTransaction) throws {
            switch self {
            case .grant(let key, let credits, let at):
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: key, organisationID: "met", source: .topUp, credits: credits,
                    price: Money(minorUnits: credits.microcredits / 10_000, currency: .gbp), effectiveAt: at))
            case .spend(let key, let credits, let at):
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: key, organisationID: "met", credits: credits, effectiveAt: at, priority: .p3,
                    policy: .allowOverdraft(limit: Credits(1_000_000)),
                    references: TransferReferences(costEventID: key, team: "analysis")))
            }
        }
    }

    func ledger(_ name: String) throws -> LedgerDatabase {
        let ledger = try LedgerDatabase.create(at: directory.file("\(name).sqlite"))
        _ = try ledger.write {
            try $0.load(SampleWorld.configuration([SampleWorld.organisation("met", overdraft: Credits(1_000_000))]))
        }
        return ledger
    }

    @Test func balanceAsOf_equalsAReplayUpToThatInstant_overRandomisedLedgers() throws {
        var random = SeededRandom(label: "balance as of")
        let start = instant("2026-11-01T00:00:00Z")
        for round in 0..<8 {
            let operations: [Operation] = (0..<40).map { index in
                let at = start.adding(milliseconds: Int64.random(in: 0..<(30 * 86_400_000), using: &random))
                let credits = Credits(microcredits: Int64.random(in: 1...5_000_000_000, using: &random))
                return Bool.random(using: &random) && index % 3 == 0
                    ? .grant(key: "g\(round)-\(index)", credits: credits, at: at)
                    : .spend(key: "s\(round)-\(index)", credits: credits, at: at)
            }
            // Posted in random order: late usage and backdated grants, as the batch and live paths post them.
            let ledger = try ledger("round-\(round)")
            for operation in operations.shuffled(using: &random) {
                _ = try ledger.write { try operation.post($0) }
            }
            #expect(try ledger.read { try $0.verify() }.passed)
            var instants = (0..<6).map { _ in
                start.adding(milliseconds: Int64.random(in: -86_400_000..<(31 * 86_400_000), using: &random))
            }
            instants += operations.prefix(3).map(\.effectiveAt)  // exactly at a transfer's effective time
            for moment in instants {
                let asOf = try ledger.read { try $0.balance(of: "met", asOf: moment) }
                // The replay: a fresh ledger with only what took effect by then, in effective order.
                let replay = try self.ledger("replay-\(round)-\(moment.millisecondsSinceEpoch)")
                for operation in operations.filter({ $0.effectiveAt <= moment }).sorted(by: { $0.effectiveAt < $1.effectiveAt }) {
                    _ = try replay.write { try operation.post($0) }
                }
                let replayed = try replay.read { try $0.balance(of: "met") }
                #expect(asOf.available == replayed.available, "round \(round), as of \(moment.iso8601)")
            }
            // Now, as of any instant after the last transfer, is the balance itself.
            let latest = try ledger.read { try $0.balance(of: "met", asOf: start.adding(days: 60)) }
            #expect(try latest == ledger.read { try $0.balance(of: "met") })
        }
    }

    @Test func anExpiry_countsFromTheInstantTheGrantExpired() throws {
        let ledger = try ledger("expiry")
        let grant = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "met", source: .allocation, credits: Credits(100),
                effectiveAt: instant("2026-11-01T00:00:00Z"), expiresAt: instant("2026-12-01T00:00:00Z")))
        }
        _ = try ledger.write { try Operation.spend(key: "s1", credits: Credits(30), at: instant("2026-11-10T09:00:00Z")).post($0) }
        _ = try ledger.write { tx in
            try tx.expire(grantID: try #require(grant.transfer.grantID), at: instant("2026-12-01T00:00:00Z"), idempotencyKey: "exp")
        }
        let balances = try ledger.read { reader in
            try ["2026-10-31T23:59:59.999Z", "2026-11-10T09:00:00Z", "2026-11-30T23:59:59.999Z", "2026-12-01T00:00:00Z"]
                .map { try reader.balance(of: "met", asOf: instant($0)).available }
        }
        #expect(balances == [Credits(0), Credits(70), Credits(70), Credits(0)])
    }

    @Test func reservations_areThoseConfiguredAtThatInstant() throws {
        let clock = TestClock("2026-11-01T09:00:00Z")
        let ledger = try SampleWorld.ledger(
            in: directory,
            organisations: [SampleWorld.organisation(
                "met", reservations: [Reservation(id: "floor", credits: Credits(50), maxPriority: .p1)])],
            clock: clock)
        _ = try ledger.write { try Operation.grant(key: "g", credits: Credits(200), at: instant("2026-11-01T00:00:00Z")).post($0) }
        let admin = ConfigurationChangeAttribution(actor: "key:abc", idempotencyKey: nil)
        clock.set("2026-11-10T12:00:00Z")
        _ = try ledger.write { try $0.setReservation(organisationID: "met", reservationID: "floor", credits: Credits(80), maxPriority: .p1, by: admin) }
        clock.set("2026-11-20T12:00:00Z")
        _ = try ledger.write { try $0.setReservation(organisationID: "met", reservationID: "night", credits: Credits(10), maxPriority: .p2, by: admin) }
        let reserved = try ledger.read { reader in
            try ["2026-11-05T00:00:00Z", "2026-11-15T00:00:00Z", "2026-11-25T00:00:00Z"]
                .map { try reader.balance(of: "met", asOf: instant($0)).reserved }
        }
        #expect(reserved == [Credits(50), Credits(80), Credits(90)])
    }

    @Test func theEndOfADay_isTheLastMillisecondOfThatDayInTheOrganisationsTimeZone() throws {
        let ledger = try ledger("end-of-day")
        // London is on UTC+0 in November; a transfer at 23:30 UTC on the 10th is still the 10th there.
        _ = try ledger.write { try Operation.grant(key: "g", credits: Credits(10), at: instant("2026-11-10T23:30:00Z")).post($0) }
        let moment = try ledger.read { try BalanceMoment.endOf(LocalDate.parse("2026-11-10")!).instant(for: "met", $0) }
        #expect(moment == instant("2026-11-10T23:59:59.999Z"))
        #expect(try ledger.read { try $0.balance(of: "met", asOf: moment).available } == Credits(10))
    }
}
