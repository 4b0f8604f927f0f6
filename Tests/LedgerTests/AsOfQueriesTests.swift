import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: each grant's remaining credits and each team's and investigation's consumption at a past instant,
/// read without posting anything, are what a replay of the ledger up to that instant gives (issue 19,
/// "by burn-down as it was"), over randomised ledgers with overdraft that later grants settle.
@Suite struct AsOfQueriesTests {
    let directory = TemporaryDirectory("as-of-queries")

    enum Operation {
        case grant(key: String, credits: Credits, at: Instant)
        case spend(key: String, credits: Credits, team: String, investigation: String?, at: Instant)

        var effectiveAt: Instant {
            switch self {
            case .grant(_, _, let at), .spend(_, _, _, _, let at): at
            }
        }

        func post(_ tx: LedgerTransaction) throws {
            switch self {
            case .grant(let key, let credits, let at):
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: key, organisationID: "met", source: .topUp, credits: credits,
                    price: Money(minorUnits: credits.microcredits / 10_000, currency: .gbp), effectiveAt: at))
            case .spend(let key, let credits, let team, let investigation, let at):
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: key, organisationID: "met", credits: credits, effectiveAt: at, priority: .p3,
                    policy: .allowOverdraft(limit: Credits(1_000_000)),
                    references: TransferReferences(costEventID: key, team: team, investigation: investigation)))
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

    @Test func grantsAndConsumptionAsOf_equalAReplayUpToThatInstant() throws {
        var random = SeededRandom(label: "grants and consumption as of")
        let start = instant("2026-11-01T00:00:00Z")
        for round in 0..<6 {
            let operations: [Operation] = (0..<40).map { index in
                let at = start.adding(milliseconds: Int64.random(in: 0..<(30 * 86_400_000), using: &random))
                let credits = Credits(microcredits: Int64.random(in: 1...5_000_000_000, using: &random))
                if index % 4 == 0 { return .grant(key: "g\(round)-\(index)", credits: credits, at: at) }
                return .spend(key: "s\(round)-\(index)", credits: credits,
                              team: ["analysis", "triage"].randomElement(using: &random)!,
                              investigation: ["op-a", "op-b", nil].randomElement(using: &random)!, at: at)
            }.sorted { $0.effectiveAt < $1.effectiveAt }
            let ledger = try ledger("round-\(round)")
            for operation in operations { _ = try ledger.write { try operation.post($0) } }
            #expect(try ledger.read { try $0.verify() }.passed)
            var instants = (0..<5).map { _ in
                start.adding(milliseconds: Int64.random(in: -86_400_000..<(31 * 86_400_000), using: &random))
            }
            instants += operations.prefix(2).map(\.effectiveAt)
            for moment in instants {
                let replay = try self.ledger("replay-\(round)-\(moment.millisecondsSinceEpoch)")
                for operation in operations where operation.effectiveAt <= moment {
                    _ = try replay.write { try operation.post($0) }
                }
                let context = "round \(round), as of \(moment.iso8601)"
                let grants = try ledger.read { try $0.grants(of: "met", asOf: moment) }
                let replayed = try replay.read { try $0.grants(of: "met") }
                #expect(grants.map(\.credits) == replayed.map(\.credits), "\(context)")
                #expect(grants.map(\.remaining) == replayed.map(\.remaining), "\(context)")
                for dimension in [ConsumptionDimension.team, .investigation] {
                    let asOf = try ledger.read {
                        try $0.consumption(of: "met", currency: .gbp, by: dimension, asOf: moment)
                    }
                    let all = ReportWindow(start: start.adding(days: -10), end: start.adding(days: 40))
                    let replayedUse = try replay.read {
                        try $0.consumption(of: "met", currency: .gbp, in: all, by: dimension)
                    }
                    #expect(asOf == replayedUse, "\(context), by \(dimension)")
                }
            }
        }
    }
}
