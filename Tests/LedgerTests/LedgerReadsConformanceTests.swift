import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal (issue 17): the read commands and `credits init` answer and write alike on every store. The same
/// test bodies run against SQLite and a real PostgreSQL server (`StoreKind.available`): balances now and
/// as of past instants, held credits, consumption as of an instant, filtered history, organisations read
/// back, and configuration loads (changed, unchanged, audited), in byte order whatever the database's
/// collation (the test databases sort text as en-US does).
@Suite(.serialized) struct LedgerReadsConformanceTests {
    let directory = TemporaryDirectory("reads-conformance")

    /// Organisation ids and team keys whose byte order differs from a language's ("NCA" < "bta" < "met").
    static let organisationIDs = ["met", "NCA", "bta"]

    static func organisation(_ id: String, reservation: Credits) -> Organisation {
        var organisation = SampleWorld.organisation(
            id, reservations: [Reservation(id: "floor", credits: reservation, maxPriority: .p1)], overdraft: Credits(500))
        organisation.teams += [Team(id: "Zeta", name: "Zeta"), Team(id: "alpha", name: "Alpha")]
        organisation.budgets = [Budget(scope: .team, scopeID: "alpha", limit: Credits(300), period: .month, mode: .soft)]
        return organisation
    }

    /// A ledger with grants (one expiring), usage across teams and investigations posted out of effective
    /// order, a reservation changed live, and an open hold.
    func world() throws -> (LedgerDatabase, TestClock) {
        let clock = TestClock("2026-11-01T09:00:00Z")
        let ledger = try LedgerDatabase.create(at: directory.file("world-\(UUID().uuidString).sqlite"), clock: clock.provider)
        _ = try ledger.write { try $0.load(SampleWorld.configuration(Self.organisationIDs.map {
            Self.organisation($0, reservation: Credits(50))
        })) }
        var random = SeededRandom(label: "reads conformance")
        let start = instant("2026-11-01T00:00:00Z")
        for id in Self.organisationIDs {
            _ = try ledger.write { tx in
                try tx.grant(GrantRequest(
                    idempotencyKey: "alloc-\(id)", organisationID: id, source: .allocation, credits: Credits(1_000),
                    price: Money(minorUnits: 40_000, currency: .gbp), effectiveAt: start,
                    expiresAt: instant("2026-11-20T00:00:00Z")))
            }
            for index in (0..<24).shuffled(using: &random) {
                let at = start.adding(milliseconds: Int64(index) * 86_400_000 + Int64.random(in: 0..<86_400_000, using: &random))
                let team = ["Zeta", "alpha", "analysis", nil].randomElement(using: &random)!
                let investigation = ["op-urgent", "op-routine", nil].randomElement(using: &random)!
                _ = try ledger.write { tx in
                    if index % 7 == 3 {
                        return try tx.grant(GrantRequest(
                            idempotencyKey: "top-\(id)-\(index)", organisationID: id, source: .topUp,
                            credits: Credits(200), price: Money(minorUnits: 9_000, currency: .gbp), effectiveAt: at))
                    }
                    return try tx.spend(SpendRequest(
                        idempotencyKey: "use-\(id)-\(index)", organisationID: id,
                        credits: Credits(microcredits: Int64.random(in: 1_000_000...90_000_000, using: &random)),
                        effectiveAt: at, priority: .p3, policy: .allowOverdraft(limit: Credits(500)),
                        references: TransferReferences(
                            costEventID: "use-\(id)-\(index)", team: team, investigation: investigation)))
                }
            }
        }
        clock.set("2026-11-12T10:00:00Z")
        let admin = ConfigurationChangeAttribution(actor: "key:abc", idempotencyKey: nil)
        _ = try ledger.write {
            try $0.setReservation(organisationID: "met", reservationID: "floor", credits: Credits(80), maxPriority: .p1, by: admin)
        }
        _ = try ledger.write {
            try $0.createHold(HoldRequest(
                idempotencyKey: "hold-1", organisationID: "met", team: "alpha", operation: "llm", credits: Credits(15)))
        }
        return (ledger, clock)
    }

    /// Everything `LedgerReads` answers about the world, asked the same way on every store.
    struct Answers: Equatable, Sendable {
        var balances: [Balance] = []
        var held: [Credits] = []
        var asOf: [Balance] = []
        var consumption: [[ConsumptionGroup]] = []
        var histories: [[Transfer]] = []
        var organisations: [Organisation?] = []
        var grants: [[Grant]] = []
        var draws: [[GrantDraw]] = []
        var transfers: [Transfer?] = []
        var audits: [String] = []
        var auditEntries: [[AuditEntry]] = []
        var netFlows: [NetFlow] = []
        var flowsByKind: [[TransferKind: NetFlow]] = []
        var cells: [[ConsumptionCell]] = []
        var detail: [Int] = []
        var streamed: [[Transfer]] = []
        var budgets: [[BudgetStatus]] = []
        var allOrganisations: [Organisation] = []
        var findings: PlanFindings?
        var available: [Credits] = []
        var runways: [Runway] = []
        var daily: [[DailyConsumptionGroup]] = []
    }

    static let moments = ["2026-10-31T12:00:00Z", "2026-11-05T00:00:00Z", "2026-11-12T09:59:59.999Z",
                          "2026-11-20T00:00:00Z", "2026-12-31T00:00:00Z"].map { instant($0) }

    static func answers(_ reader: any LedgerReads) throws -> Answers {
        var answers = Answers()
        answers.balances = try reader.balances()
        for id in organisationIDs {
            answers.held.append(try reader.heldCredits(of: id, at: instant("2026-11-12T10:00:01Z")))
            answers.organisations.append(try reader.organisation(id))
            for moment in moments {
                answers.asOf.append(try reader.balance(of: id, asOf: moment))
                for dimension in [ConsumptionDimension.team, .investigation] {
                    answers.consumption.append(try reader.consumption(
                        of: id, currency: .gbp, by: dimension, asOf: moment, from: instant("2026-11-03T00:00:00Z")))
                }
            }
            answers.histories.append(try reader.history(
                of: id, from: nil, to: nil, kinds: [], afterID: nil, limit: 1_000, money: .asPosted))
            answers.histories.append(try reader.history(
                of: id, from: instant("2026-11-04T00:00:00Z"), to: instant("2026-11-15T00:00:00Z"),
                kinds: [.deduction, .expiry], afterID: 10, limit: 5, money: .includingSettlements))
        }
        answers.organisations.append(try reader.organisation("nobody"))
        for id in organisationIDs {
            let grants = try reader.grants(of: id)
            answers.grants.append(grants)
            for grant in grants { answers.draws.append(try reader.draws(ofGrant: grant.id)) }
            let statement = try reader.auditStatement(
                of: id, from: instant("2026-11-03T00:00:00Z"), to: instant("2026-11-18T00:00:00Z"))
            answers.audits.append("\(statement.opening) \(statement.closing) \(statement.entryCount) \(statement.digest)")
            var entries: [AuditEntry] = []
            try statement.forEachEntry { entries.append($0) }
            answers.auditEntries.append(entries)
        }
        for id: Int64 in [1, 7, 30, 55, 10_000] {
            answers.transfers.append(try reader.transfer(id: id))
            answers.draws.append(try reader.draws(ofTransfer: id))
        }
        answers.grants.append([try reader.grant(id: 2), try reader.grant(id: 10_000)].compactMap { $0 })
        // What a period report reads.
        let window = ReportWindow(start: instant("2026-11-04T00:00:00Z"), end: instant("2026-11-21T00:00:00Z"))
        let days = (0..<10).map { instant("2026-11-04T00:00:00Z").adding(days: $0) }
        answers.allOrganisations = try reader.organisations()
        answers.findings = try reader.latestPlanFindings()
        for organisation in try reader.organisations() {
            let id = organisation.id
            answers.netFlows.append(try reader.balance(of: id, currency: .gbp, before: window.start))
            answers.flowsByKind.append(try reader.netFlows(of: id, currency: .gbp, in: window))
            answers.cells.append(try reader.consumptionCells(of: id, currency: .gbp, days: days, end: window.end)
                .sorted { ($0.day, $0.team, $0.investigation, $0.operation) < ($1.day, $1.team, $1.investigation, $1.operation) })
            answers.detail.append(try reader.detailRowCount(of: id, in: window))
            var streamed: [Transfer] = []
            try reader.forEachTransfer(of: id, in: window) { streamed.append($0) }
            answers.streamed.append(streamed)
            for moment in moments {
                answers.budgets.append(try reader.budgetStatuses(of: organisation, at: moment, holds: true))
                // What an alerts run reads.
                answers.available.append(try reader.available(of: id, at: moment))
                answers.runways.append(try reader.runway(of: id, spendable: Credits(100), asOf: moment))
            }
            for dimension in [ConsumptionDimension.team, .investigation] {
                answers.daily.append(try reader.dailyConsumption(
                    of: id, currency: .gbp, days: days, end: window.end, by: dimension))
            }
        }
        return answers
    }

    @Test(arguments: StoreKind.available)
    func everyRead_answersAsOnSQLite_inByteOrder(_ kind: StoreKind) async throws {
        let (ledger, _) = try world()
        let expected = try await ledger.read { try Self.answers($0) }
        let answers = try await withLedgerReads(kind, for: ledger) { try Self.answers($0) }
        #expect(answers == expected, "\(kind)")

        // What the expectations say on their own: byte order, the live reservation change, the hold.
        #expect(answers.balances.map(\.organisationID) == ["NCA", "bta", "met"])
        let teams = answers.consumption[answers.consumption.count - 2].map(\.key)  // bta's last moment, by team
        #expect(teams == teams.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } && teams.contains("Zeta"),
                "\(teams)")
        let met = Self.organisationIDs.firstIndex(of: "met")!
        #expect(answers.held[met] == Credits(15))
        #expect(answers.asOf[met * Self.moments.count + 2].reserved == Credits(50))
        #expect(answers.asOf[met * Self.moments.count + 3].reserved == Credits(80))
        #expect(answers.organisations.last == .some(nil))
        let filtered = answers.histories[met * 2].filter { transfer in
            transfer.id > 10 && [.deduction, .expiry].contains(transfer.kind)
                && transfer.effectiveAt >= instant("2026-11-04T00:00:00Z") && transfer.effectiveAt < instant("2026-11-15T00:00:00Z")
        }.prefix(5).map(\.id)
        #expect(answers.histories[met * 2 + 1].map(\.id) == Array(filtered) && !filtered.isEmpty)
        #expect(answers.grants.allSatisfy { !$0.isEmpty } && answers.draws.contains { !$0.isEmpty })
        #expect(answers.transfers.last == .some(nil) && answers.transfers.first != .some(nil))
        #expect(answers.auditEntries.allSatisfy { $0.count > 5 }, "\(answers.auditEntries.map(\.count))")
        #expect(answers.allOrganisations.map(\.id) == ["NCA", "bta", "met"])
        #expect(answers.cells.allSatisfy { !$0.isEmpty } && answers.streamed.allSatisfy { !$0.isEmpty })
        #expect(answers.budgets.joined().contains { $0.used.isPositive }, "usage on team alpha counts as used")
        #expect(answers.budgets.joined().contains { $0.held == Credits(15) }, "met's hold on team alpha counts as held")
        #expect(answers.runways.contains { $0.burn.isPositive } && answers.daily.allSatisfy { !$0.isEmpty })
        #expect(answers.daily.allSatisfy { groups in groups.map(\.day) == groups.map(\.day).sorted() })
        // An unknown organisation is refused alike.
        let refused = try await withLedgerReads(kind, for: ledger) { reader in (try? reader.balance(of: "nobody")) == nil }
        #expect(refused)
    }

    /// A configuration A, then A again, then B: changed, unchanged, changed with its live-changeable terms
    /// audited; read back as configured; and balances as of before B see A's reservations.
    func loadAThenB(_ ledger: any LedgerUnderTest, clock: TestClock) throws {
        let configurationA = SampleWorld.configuration(Self.organisationIDs.map { Self.organisation($0, reservation: Credits(50)) })
        var configurationB = configurationA
        configurationB.organisations[0].reservations = [Reservation(id: "night", credits: Credits(10), maxPriority: .p2)]
        configurationB.organisations[0].thresholds = Thresholds(lowBalanceCredits: Credits(25), runwayDays: 7)
        configurationB.organisations[0].budgets = [Budget(
            scope: .team, scopeID: "alpha", limit: Credits(300), period: .month, mode: .hard)]
        configurationB.organisations[1].teams.append(Team(id: "new", name: "New"))

        #expect(try ledger.load(configurationA).changed)
        #expect(try !ledger.load(configurationA).changed)
        try ledger.read { (reader) throws -> Void in
            for organisation in configurationA.organisations {
                #expect(try reader.organisation(organisation.id) == organisation)
            }
        }
        clock.set("2026-11-10T12:00:00Z")
        #expect(try ledger.load(configurationB).changed)
        try ledger.read { (reader) throws -> Void in
            for organisation in configurationB.organisations {
                #expect(try reader.organisation(organisation.id) == organisation)
            }
            #expect(try reader.balance(of: "met").reserved == Credits(10))
            #expect(try reader.balance(of: "met", asOf: instant("2026-11-10T11:59:59Z")).reserved == Credits(50))
            #expect(try reader.balances().map(\.organisationID) == ["NCA", "bta", "met"])
        }
    }

    @Test(arguments: StoreKind.available)
    func configurationLoads_readBackAsConfigured_andAuditWhatTheyReplace(_ kind: StoreKind) async throws {
        let clock = TestClock("2026-11-01T09:00:00Z")
        try await withEmptyLedger(kind, in: directory, clock: clock.provider) { try loadAThenB($0, clock: clock) }
    }

    @Test func configurationLoads_leaveTheSameDigest_onEveryStore() async throws {
        var digests: [StoreKind: String] = [:]
        for kind in StoreKind.available {
            let clock = TestClock("2026-11-01T09:00:00Z")
            try await withEmptyLedger(kind, in: directory, clock: clock.provider) { ledger in
                try loadAThenB(ledger, clock: clock)
                digests[kind] = try ledger.digest()
            }
        }
        #expect(Set(digests.values).count == 1, "\(digests)")
    }
}
