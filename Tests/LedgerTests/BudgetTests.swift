import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger

/// Budgets in the ledger (issue 18). Goal: the budget rule (`BudgetBook.check`) refuses exactly the
/// spends an independent model refuses, names the same blocking scope, and counts open holds on the
/// path, across period rollovers driven by a controlled clock. Method: random interleavings of live
/// usage, holds, settles, releases, expiries and clock jumps (some across month and financial-year
/// ends), each predicted by a model written from the issue's words with Foundation's calendar (not
/// `BudgetPeriod`), then the ledger verified. The seed is printed; rerun with CREDITS_SEED.
@Suite struct BudgetTests {
    let directory = TemporaryDirectory("budgets")
    let clock = TestClock("2026-03-28T09:00:00Z")

    static let budgets: [Budget] = [
        Budget(scope: .organisation, scopeID: "met", limit: credits("600"), period: .month, mode: .hard),
        Budget(scope: .team, scopeID: "analysis", limit: credits("400"), period: .month, mode: .hard),
        Budget(scope: .team, scopeID: "collection", limit: credits("250"), period: .month, mode: .soft),
        Budget(scope: .investigation, scopeID: "op-a", limit: credits("300"), period: .financialYear(startMonth: 4),
               mode: .hard),
        Budget(scope: .investigation, scopeID: "op-b", limit: credits("120"),
               period: .range(start: LocalDate.parse("2026-03-30")!, end: LocalDate.parse("2026-04-12")!), mode: .hard),
    ]

    static func organisation(budgets: [Budget]? = BudgetTests.budgets) -> Organisation {
        var organisation = SampleWorld.organisation("met")
        organisation.teams = [Team(id: "analysis", name: "Analysis"), Team(id: "collection", name: "Collection")]
        organisation.investigations = [
            Investigation(id: "op-a", name: "A", teamID: "analysis", priority: .p3, status: .open),
            Investigation(id: "op-b", name: "B", teamID: "analysis", priority: .p3, status: .open),
            Investigation(id: "op-c", name: "C", teamID: "collection", priority: .p3, status: .open),
        ]
        organisation.budgets = budgets
        return organisation
    }

    func ledger(budgets: [Budget]? = BudgetTests.budgets) throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [Self.organisation(budgets: budgets)], clock: clock)
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .topUp, credits: credits("1000000"),
                effectiveAt: instant("2026-01-01T00:00:00Z")))
        }
        return ledger
    }

    /// The model: the issue's rule in plain arithmetic over whole credits.
    struct Model {
        struct Charge { let at: Date; let team: String; let investigation: String?; let credits: Int64 }
        struct OpenHold { let id: Int64; let team: String; let investigation: String?; let credits: Int64; let expiresAt: Date }
        var charges: [Charge] = []
        var holds: [OpenHold] = []
        let calendar: Calendar = {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Europe/London")!
            return calendar
        }()

        func window(_ budget: Budget, at date: Date) -> DateInterval? {
            switch budget.period {
            case .month: return calendar.dateInterval(of: .month, for: date)
            case .financialYear(let startMonth):
                let parts = calendar.dateComponents([.year, .month], from: date)
                let year = parts.month! >= startMonth ? parts.year! : parts.year! - 1
                let start = calendar.date(from: DateComponents(year: year, month: startMonth, day: 1))!
                return DateInterval(start: start, end: calendar.date(byAdding: .year, value: 1, to: start)!)
            case .range(let first, let last):
                let start = calendar.date(from: DateComponents(year: first.year, month: first.month, day: first.day))!
                let end = calendar.date(byAdding: .day, value: 1, to: calendar.date(
                    from: DateComponents(year: last.year, month: last.month, day: last.day))!)!
                let interval = DateInterval(start: start, end: end)
                return date >= start && date < end ? interval : nil
            }
        }

        func onPath(_ budget: Budget, team: String, investigation: String?) -> Bool {
            switch budget.scope {
            case .organisation: true
            case .team: budget.scopeID == team
            case .investigation: budget.scopeID == investigation
            }
        }

        /// The hard budget that refuses `credits` on this path at `date`, tightest first (inner on ties).
        func refusal(
            _ credits: Int64, team: String, investigation: String?, at date: Date, now: Date, excludingHold: Int64? = nil
        ) -> (scope: String, left: Int64)? {
            var refusals: [(scope: String, left: Int64, depth: Int)] = []
            for budget in BudgetTests.budgets where onPath(budget, team: team, investigation: investigation) {
                guard let window = window(budget, at: date) else { continue }
                let used = charges.filter { charge in
                    window.start <= charge.at && charge.at < window.end
                        && onPath(budget, team: charge.team, investigation: charge.investigation)
                }.reduce(0) { $0 + $1.credits }
                let held = holds.filter { hold in
                    hold.id != excludingHold && hold.expiresAt > now
                        && onPath(budget, team: hold.team, investigation: hold.investigation)
                }.reduce(0) { $0 + $1.credits }
                let left = budget.limit.microcredits / 1_000_000 - used - held
                let depth = [SpendScopeKind.organisation, .team, .investigation].firstIndex(of: budget.scope)!
                if left < credits, budget.mode == .hard { refusals.append(("\(budget.key)", left, depth)) }
            }
            return refusals.min { ($0.left, -$0.depth) < ($1.left, -$1.depth) }.map { ($0.scope, $0.left) }
        }
    }

    static func scopeKey(_ refusal: SpendRefusal) -> String { "\(refusal.scope.kind.rawValue):\(refusal.scope.id)" }

    @Test func budgets_underRandomInterleavings_refuseExactlyWhatTheModelRefuses() throws {
        var random = SeededRandom(label: "budgets_underRandomInterleavings")
        let ledger = try ledger()
        var model = Model()
        let paths: [(String, String?)] = [("analysis", "op-a"), ("analysis", "op-b"), ("analysis", nil),
                                          ("collection", "op-c"), ("collection", nil)]
        var refused = 0
        var posted = 0
        for step in 0..<400 {
            let (team, investigation) = paths[Int.random(in: 0..<paths.count, using: &random)]
            let amount = Int64.random(in: 1...60, using: &random)
            let now = clock.now.date
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3:
                let predicted = model.refusal(amount, team: team, investigation: investigation, at: now, now: now)
                do {
                    _ = try ledger.write { tx in
                        try tx.spendLeavingHolds(SpendRequest(
                            idempotencyKey: "usage-\(step)", organisationID: "met", credits: credits("\(amount)"),
                            effectiveAt: clock.now, priority: .p3, policy: .withinSpendable,
                            references: TransferReferences(costEventID: nil, team: team, investigation: investigation)))
                    }
                    #expect(predicted == nil, "step \(step): the model refuses \(amount) at \(predicted?.scope ?? "")")
                    model.charges.append(.init(at: now, team: team, investigation: investigation, credits: amount))
                    posted += 1
                } catch PostingRejection.budgetExceeded(let refusal) {
                    #expect(Self.scopeKey(refusal) == predicted?.scope, "step \(step)")
                    #expect(refusal.spendable == credits("\(max(0, predicted?.left ?? -1))"), "step \(step)")
                    refused += 1
                }
            case 4...5:
                let predicted = model.refusal(amount, team: team, investigation: investigation, at: now, now: now)
                do {
                    let hold = try ledger.write { tx in
                        try tx.createHold(HoldRequest(
                            idempotencyKey: "hold-\(step)", organisationID: "met", team: team,
                            investigation: investigation, operation: "ocr", credits: credits("\(amount)"),
                            expiresInSeconds: Int64.random(in: 600...200_000, using: &random))).hold
                    }
                    #expect(predicted == nil, "step \(step): the model refuses the hold at \(predicted?.scope ?? "")")
                    model.holds.append(.init(id: hold.id, team: team, investigation: investigation, credits: amount,
                                             expiresAt: hold.expiresAt.date))
                } catch HoldRejection.refused(let refusal) {
                    #expect(refusal.rule == .budgetExceeded)
                    #expect(Self.scopeKey(refusal) == predicted?.scope, "step \(step)")
                    refused += 1
                }
            case 6:
                guard let index = model.holds.indices.randomElement(using: &random) else { continue }
                let hold = model.holds[index]
                let actual = Int64.random(in: 1...hold.credits, using: &random)
                let open = hold.expiresAt > now
                let predicted = model.refusal(actual, team: hold.team, investigation: hold.investigation, at: now,
                                              now: now, excludingHold: hold.id)
                do {
                    _ = try ledger.write { try $0.settleHold(id: hold.id, credits: credits("\(actual)"), organisationID: nil) }
                    #expect(predicted == nil, "step \(step): the model refuses the settle at \(predicted?.scope ?? "")")
                    model.charges.append(.init(at: now, team: hold.team, investigation: hold.investigation, credits: actual))
                    model.holds.remove(at: index)
                    _ = open
                } catch HoldRejection.refused(let refusal) {
                    #expect(Self.scopeKey(refusal) == predicted?.scope, "step \(step)")
                    refused += 1
                }
            case 7:
                guard let index = model.holds.indices.randomElement(using: &random) else { continue }
                _ = try ledger.write { try $0.releaseHold(id: model.holds[index].id, organisationID: nil) }
                model.holds.remove(at: index)
            default:
                // Hours to a few days: month ends (and 2026-04-01, the financial year's) pass on the way.
                clock.advance(seconds: Int64.random(in: 600...(2 * 86_400), using: &random))
            }
        }
        print("budgets: \(posted) posted, \(refused) refused, clock at \(clock.now.iso8601)")
        #expect(refused > 0, "the run must reach some budget")
        #expect(try ledger.read { try $0.verify() }.passed)
    }

    @Test func batchUsage_isRefusedByTheSameRule_andSoftBudgetsFlag() throws {
        let ledger = try ledger()
        let at = instant("2026-03-30T10:00:00Z")
        func usage(_ key: String, _ amount: String, team: String, investigation: String?) -> SpendRequest {
            SpendRequest(idempotencyKey: key, organisationID: "met", credits: credits(amount), effectiveAt: at,
                         priority: .p3, policy: .allowOverdraft(limit: .zero),
                         references: TransferReferences(costEventID: nil, team: team, investigation: investigation))
        }
        let outcome = try ledger.write { tx in
            let book = try BatchPostingBook(tx)
            _ = try book.postSpend(usage("a", "100", team: "analysis", investigation: "op-b"))
            #expect(throws: PostingRejection.self) { try book.postSpend(usage("b", "21", team: "analysis", investigation: "op-b")) }
            let soft = try book.postSpend(usage("c", "260", team: "collection", investigation: "op-c"))
            try book.finish()
            return soft
        }
        #expect(outcome.budgetWarnings.map(Self.scopeKey) == ["team:collection"])
    }

    @Test func periods_rollOverByTheCalendar_withNoJob() throws {
        let ledger = try ledger()
        func spend(_ key: String, _ at: String) throws {
            _ = try ledger.write { tx in
                try tx.spend(SpendRequest(
                    idempotencyKey: key, organisationID: "met", credits: credits("400"), effectiveAt: instant(at),
                    priority: .p3, policy: .withinSpendable,
                    references: TransferReferences(costEventID: nil, team: "analysis", investigation: nil)))
            }
        }
        try spend("march", "2026-03-31T22:59:59Z")  // 23:59:59 in London (BST since 29 March)
        #expect(throws: PostingRejection.self) { try spend("march-again", "2026-03-31T22:59:59Z") }
        try spend("april", "2026-03-31T23:00:00Z")  // 00:00 on 1 April in London: a new month
    }

    @Test func configuration_refusesAChildAboveItsParent_namingBoth() throws {
        let config = "\(directory.path)/config-nesting"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        for file in ConfigurationLoader.fileNames + ["operations.yaml"] {
            let source = "\(repositoryRoot)/fixtures/config/\(file)"
            if FileManager.default.fileExists(atPath: source) {
                try FileManager.default.copyItem(atPath: source, toPath: "\(config)/\(file)")
            }
        }
        let path = "\(config)/organisations.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let organisations = try ConfigurationLoader.load(directory: config).organisations
        let first = organisations[0]
        guard let team = first.teams.first else { return }
        let budgets = """
              budgets:
                - scope: organisation
                  limit: 1000
                  period: month
                - scope: team
                  id: \(team.id)
                  limit: 2000
                  period: financial_year
                  mode: soft

            """
        try Self.insert(budgets, intoFirstOrganisationOf: text).write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ConfigurationLoader.load(directory: config)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("organisations.yaml:") && text.contains("[0].budgets[1].limit")
                && text.contains("team \(team.id) budget") && text.contains("organisation \(first.id) budget")
        }
    }

    /// `organisations.yaml` with `block` placed as the first organisation's last keys.
    static func insert(_ block: String, intoFirstOrganisationOf text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        let starts = lines.indices.filter { lines[$0].hasPrefix("- ") }
        let end = starts.count > 1 ? starts[1] : lines.count
        lines.insert(block, at: end)
        return lines.joined(separator: "\n")
    }
}

extension TestClock {
    func advance(seconds: Int64) { set(now.adding(milliseconds: seconds * 1000).iso8601) }
}
