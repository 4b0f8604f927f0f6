import Crypto
import Foundation
import Ledger

/// `credits reconcile`: computes the plan of transfers that would bring the ledger up to date as
/// of an instant, without changing any balance.
///
/// Method: the candidate items (plan allocations, payment top-ups and reversals and expiries,
/// which are few and held in memory, and usage deductions, streamed from the staged events) are
/// walked once in posting order and posted in a simulation of the ledger (`PlanWalk` over a
/// `PostingSimulation`: the ledger's posting rules on the organisations' states in memory, nothing
/// written): it tells exactly what posting will do (which usage goes into reserves or overdraft,
/// which is beyond the overdraft limit, what a refund can still take back). The plan stores what finance reviews:
/// totals per organisation and kind, the findings, the digest of what posts, and a seal over those
/// rows. `apply` walks the same candidates again, posting for real, and commits only if it arrives
/// at the same digest. Nothing holds the deductions, so memory does not grow with the events.
public enum Reconciler {
    public struct Options: Sendable {
        /// Everything effective before this instant is in scope.
        public var asOf: Instant
        /// Open orders and unpaid purchases older than this are reported as aged.
        public var agedAfterDays: Int

        public init(asOf: Instant, agedAfterDays: Int = 3) {
            self.asOf = asOf
            self.agedAfterDays = agedAfterDays
        }
    }

    public struct Summary: Sendable, Codable, Equatable {
        public var planID: Int64
        public var digest: String
        /// False when an identical plan was already stored (a rerun on unchanged inputs).
        public var newPlan: Bool
        /// True when nothing the plan is made from changed since it was stored (`LedgerReader.planInputs`):
        /// it was returned without planning again.
        public var inputsUnchanged: Bool
        public var asOf: Instant
        public var items: [String: Int]
        /// Credits each kind of item posts, as found by the dry run.
        public var credits: [String: Credits]
        public var findings: [String: Int]
        public var exceptions: [Finding]
        public var aged: [Finding]
        /// Only from `reconcileAndApply`: whether this run posted the plan (false when the ledger
        /// already held it: a rerun).
        public var applied: Bool? = nil

        public var needsReview: Bool { !exceptions.isEmpty }
    }

    public static func reconcile(_ ledger: some LedgerWriting, options: Options) throws -> Summary {
        try reconcile(ledger, options: options) { _, _ in }.summary
    }

    /// Plans, stores the plan, and hands `report` the stored plan with the transfers it proposes,
    /// streamed from a dry run in the ledger (posted, then rolled back) in the same transaction, so
    /// the report shows exactly the plan's transfers; it runs only when a report is wanted.
    public static func reconcile<Report>(
        _ ledger: some LedgerWriting, options: Options, report: (StoredPlan, ProposedTransfers) throws -> Report
    ) throws -> (summary: Summary, report: Report) {
        let result = try ledger.write(as: .pipeline(.reconcile)) { tx in
            let ledgerPosition = try tx.reader.ledgerPosition()
            let inputs = try tx.reader.planInputs()
            // Nothing a plan is made from changed since this one: a walk would make it again.
            if let previous = try Self.planWithUnchangedInputs(tx.reader, inputs: inputs, options: options) {
                let count = previous.status == .planned ? previous.totals.reduce(0) { $0 + $1.transfers } : 0
                let written = try report(previous, Self.proposed(count: count, digest: previous.digest, tx, options))
                CrashPoint.hit("reconcile.beforeCommit")
                return (Self.summary(ofStored: previous, options: options, inputsUnchanged: true), written)
            }
            let walk = try PlanWalk.run(
                reader: tx.reader, book: try PostingSimulation(reader: tx.reader), asOf: options.asOf,
                agedAfterDays: options.agedAfterDays)

            // Reuse only an intact identical plan, so a plan altered after it was stored is
            // replaced rather than handed to apply again. A plan gone stale has another digest.
            let plan: StoredPlan
            let newPlan: Bool
            var appliedPlanSeenAgain = false
            if let previous = try tx.reader.latestPlan(), PlanSeal.holds(for: previous),
                isAppliedPlanSeenAgain(previous, walk: walk, options: options, ledgerPosition: ledgerPosition)
            {
                plan = previous
                newPlan = false
                appliedPlanSeenAgain = true
                try tx.recordPlanInputs(planID: previous.id, inputs: inputs)
            } else if let previous = try tx.reader.latestPlan(), previous.digest == walk.digest,
                previous.agedAfterDays == options.agedAfterDays, previous.status == .planned || walk.totals.count == 0,
                PlanSeal.holds(for: previous)
            {
                plan = previous
                newPlan = false
                try tx.recordPlanInputs(planID: previous.id, inputs: inputs)
            } else {
                plan = try store(walk, options: options, ledgerPosition: ledgerPosition, inputs: inputs, in: tx)
                newPlan = true
            }
            let proposed = Self.proposed(count: walk.totals.count, digest: walk.digest, tx, options)
            let written = try report(plan, proposed)
            CrashPoint.hit("reconcile.beforeCommit")
            return (appliedPlanSeenAgain ? Reconciler.summary(ofStored: plan, options: options)
                        : summary(of: walk, planID: plan.id, newPlan: newPlan, options: options), written)
        }
        CrashPoint.hit("reconcile.afterCommit")
        return result
    }

    /// Stores `walk` as a new plan (under `id` when reserved), sealed, superseding any plan not yet applied.
    static func store(
        _ walk: PlanWalk, id: Int64? = nil, options: Options, ledgerPosition: Int64, inputs: String?,
        in tx: LedgerTransaction
    ) throws -> StoredPlan {
        let totals = walk.totals.rows
        let findings = walk.findings.enumerated().map { seq, finding in
            StoredFinding(seq: seq, severity: finding.severity, code: finding.code,
                          organisationID: finding.organisationID, subject: finding.subject, detail: finding.detail)
        }
        let text = "\(walk.totals.count) items, \(findings.count) findings"
        let planID = try tx.savePlan(
            id: id, asOf: options.asOf, agedAfterDays: options.agedAfterDays, ledgerPosition: ledgerPosition,
            digest: walk.digest,
            seal: PlanSeal.of(asOf: options.asOf, agedAfterDays: options.agedAfterDays, digest: walk.digest,
                              summary: text, totals: totals, findings: findings),
            summary: text, totals: totals, findings: findings, inputs: inputs)
        guard let stored = try tx.reader.plan(id: planID) else { preconditionFailure("plan \(planID) was just stored") }
        return stored
    }

    /// The summary of a plan just made by `walk`.
    static func summary(of walk: PlanWalk, planID: Int64, newPlan: Bool, options: Options) -> Summary {
        Summary(
            planID: planID, digest: walk.digest, newPlan: newPlan, inputsUnchanged: false, asOf: options.asOf,
            items: walk.totals.transfersByKind, credits: walk.totals.creditsByKind(),
            findings: Dictionary(grouping: walk.findings, by: \.severity.rawValue).mapValues(\.count),
            exceptions: walk.findings.filter { $0.severity == .exception },
            aged: walk.findings.filter { $0.severity == .aged })
    }

    /// The latest plan, when it still holds for `options` and nothing it was made from has changed.
    static func planWithUnchangedInputs(_ reader: LedgerReader, inputs: String, options: Options) throws
        -> StoredPlan?
    {
        guard let previous = try reader.latestPlan(), previous.inputs == inputs, previous.status != .superseded,
            previous.asOf == options.asOf, previous.agedAfterDays == options.agedAfterDays, PlanSeal.holds(for: previous)
        else { return nil }
        return previous
    }

    /// The plan's transfers, replayed by a dry run in the ledger when a report reads them.
    private static func proposed(count: Int, digest: String, _ tx: LedgerTransaction, _ options: Options)
        -> ProposedTransfers
    {
        ProposedTransfers(count: count) { body in
            let replay = try tx.dryRun { dry in
                try PlanWalk.run(reader: dry.reader, book: dry, asOf: options.asOf, agedAfterDays: options.agedAfterDays,
                                 each: body)
            }
            precondition(replay.digest == digest, "the ledger must post what the simulation planned")
        }
    }
}

/// The transfers a plan proposes, in posting order, replayed by a dry run: `count` of them, each
/// delivered with the transfer it posted (then rolled back). Consume inside the `report` closure.
public struct ProposedTransfers {
    public let count: Int
    public let forEach: ((PlanItem, Transfer) throws -> Void) throws -> Void
}

/// One walk over a plan's candidates in posting order, posting each in `tx`: reconcile runs it in
/// a dry run that is rolled back, `apply` in its own transaction, for real. The same ledger and
/// options always give the same walk, so equal digests mean equal postings.
struct PlanWalk {
    let digest: String
    let totals: PlanTotals
    let findings: [Finding]

    static func run(
        reader: LedgerReader, book: some PostingBook, asOf: Instant, agedAfterDays: Int,
        each: (PlanItem, Transfer) throws -> Void = { _, _ in }
    ) throws -> PlanWalk {
        var payments = PaymentMatcher(reader: reader, asOf: asOf, agedAfterDays: agedAfterDays)
        try payments.run()
        // A top-up per completed order makes the top-ups most of what is held in memory: they are
        // moved here, not copied, and held as orders, not items (issue 13).
        let (topUps, reversals) = payments.takeProposals()
        let allocations = try Allocations.due(reader: reader, asOf: asOf)
        let expiries = try Expiries.due(
            reader: reader, asOf: asOf, plannedAllocations: allocations, plannedTopUps: topUps)
        var candidates = Candidates(
            held: HeldCandidates(items: allocations + reversals + expiries, topUps: consume topUps),
            usage: UsageCharges(reader: reader, asOf: asOf))
        var dryRun = DryRun(asOf: asOf)
        try candidates.forEach { item in
            if let transfer = try dryRun.post(item, in: book) { try each(item, transfer) }
        }
        let findings = payments.findings + candidates.usage.findings + dryRun.findings
        return PlanWalk(digest: dryRun.digest.finalize(findings: findings), totals: dryRun.totals, findings: findings)
    }
}

/// Every item a plan could hold, in posting order: the held candidates (allocations, payments and
/// expiries), merged with the deductions streamed from the staged events.
private struct Candidates {
    var held: HeldCandidates
    var usage: UsageCharges

    /// Calls `body` with each candidate; the same candidates in the same order on the same ledger.
    mutating func forEach(_ body: (PlanItem) throws -> Void) throws {
        try usage.forEach { deduction in
            while let next = held.popFirst(before: deduction) { try body(next) }
            try body(deduction)
        }
        while let next = held.popFirst(before: nil) { try body(next) }
    }
}

/// The candidates held in memory, in posting order: allocations, reversals and expiries (few) as
/// items, and top-ups (one per completed order not yet credited, most of what is held) as their
/// orders, each made an item only when its turn comes: an item weighs several times its order.
struct HeldCandidates {
    private let items: [PlanItem]
    private let topUps: [CompletedOrder]
    private var nextItem = 0
    private var nextTopUp = 0
    /// The top-up of `topUps[nextTopUp]`, made once.
    private var topUpHead: PlanItem?

    /// Takes `topUps` and sorts it in place: a caller that hands over its only copy (`consume`)
    /// never holds the night's orders twice.
    init(items: [PlanItem], topUps: consuming [CompletedOrder]) {
        self.items = items.sorted(by: PlanItem.postingOrder)
        topUps.sort(by: PlanItem.topUpOrder)
        self.topUps = topUps
        topUpHead = self.topUps.first.map(PlanItem.topUp)
    }

    /// Removes and returns the first held candidate when it posts before `bound` (any, when nil).
    mutating func popFirst(before bound: PlanItem?) -> PlanItem? {
        let item = nextItem < items.count ? items[nextItem] : nil
        let takeTopUp: Bool
        switch (item, topUpHead) {
        case (nil, nil): return nil
        case (nil, _?): takeTopUp = true
        case (_?, nil): takeTopUp = false
        case (let item?, let topUp?): takeTopUp = PlanItem.postingOrder(topUp, item)
        }
        let first = takeTopUp ? topUpHead! : item!
        if let bound, !PlanItem.postingOrder(first, bound) { return nil }
        if takeTopUp {
            nextTopUp += 1
            topUpHead = nextTopUp < topUps.count ? PlanItem.topUp(topUps[nextTopUp]) : nil
        } else {
            nextItem += 1
        }
        return first
    }
}

/// What posting the candidates did (in reconcile's dry run, or for real in apply): the digest and
/// totals of those that post, and the outcomes a person should see as findings (aggregated per
/// organisation for usage). Items that post nothing are left out of the plan.
private struct DryRun {
    var digest: PlanDigest
    private(set) var totals = PlanTotals()
    private var refunds: [Finding] = []
    /// Events no arithmetic can charge, and plan totals that passed Int64: findings, never a failure.
    private var unchargeable: [Finding] = []
    private var usage = UsageOutcomes()

    init(asOf: Instant) {
        digest = PlanDigest(asOf: asOf)
    }

    var findings: [Finding] { refunds + usage.findings + unchargeable }

    /// Posts `item`; returns the transfer it posted when `book` is the ledger, nil when it posts
    /// nothing or `book` is a simulation.
    mutating func post(_ item: PlanItem, in book: some PostingBook) throws -> Transfer? {
        let outcome: PostingOutcome
        do {
            outcome = try item.post(in: book)
        } catch PostingRejection.budgetExceeded(let refusal) {
            usage.add(.budgetExceeded, item.organisationID, refusal.requested,
                      "not charged: the hard \(Self.budgetText(refusal)) would be passed (budget_exceeded); "
                          + "it stays staged", subject: "\(refusal.scope.kind.rawValue):\(refusal.scope.id)")
            return nil
        } catch PostingRejection.exceedsOverdraftLimit(let requested, let available, let limit) {
            usage.add(.usageBeyondOverdraftLimit, item.organisationID, requested,
                      "not charged: \(available) available, overdraft limit \(limit)")
            return nil
        } catch where item.kind == .deduction && Self.cannotBeCharged(error) {
            // One event no arithmetic can charge (staged before the per-event limit, or a sum at
            // Int64's edge) is that event's problem, never the night's: a finding, and it stays
            // staged for an operator to void (`credits ledger void-event`).
            unchargeable.append(Finding(
                severity: .exception, code: .usageNotChargeable, organisationID: item.organisationID,
                subject: item.references.costEventID ?? item.idempotencyKey,
                detail: "\(item.credits ?? .zero) credits not charged: \(error); void the event if it is wrong"))
            return nil
        }
        if let soft = outcome.budgetWarnings.first {
            usage.add(.budgetSoftExceeded, item.organisationID, item.credits ?? .zero,
                      "charged past the soft \(Self.budgetText(soft))", subject: "\(soft.scope.kind.rawValue):\(soft.scope.id)",
                      severity: .info)
        }
        if outcome.intoReserve.isPositive {
            usage.add(.usageIntoReserve, item.organisationID, outcome.intoReserve, "charged into reserved capacity")
        }
        if outcome.overdraft.isPositive {
            usage.add(.usageInOverdraft, item.organisationID, outcome.overdraft, "charged beyond every grant")
        }
        if item.kind == .reversal, outcome.alreadySpent.isPositive {
            refunds.append(Finding(
                severity: .exception, code: FindingCode.refundAfterSpend, organisationID: item.organisationID,
                subject: item.references.revolutOrderID ?? item.idempotencyKey,
                detail: "\(outcome.alreadySpent) of \(item.credits ?? .zero) refunded credits were already spent"))
        }
        guard let posted = outcome.posted else { return nil }
        digest.add(item, posted: posted)
        if !totals.add(item, posted: posted) {
            unchargeable.append(Finding(
                severity: .exception, code: .planTotalOverflow, organisationID: item.organisationID,
                subject: item.idempotencyKey,
                detail: "the plan's total of \(item.kind.rawValue) credits for \(item.organisationID) passes "
                    + "\(Credits(microcredits: .max)); planned as usual, the total is shown capped"))
        }
        return outcome.transfer
    }

    /// `team alpha budget (limit 40000 per period ending 2026-07-01T00:00:00Z)`.
    private static func budgetText(_ refusal: SpendRefusal) -> String {
        let limit = refusal.budget.map { "limit \($0.limit)" } ?? "no limit"
        return "\(refusal.scope.kind.rawValue) \(refusal.scope.id) budget (\(limit))"
    }

    /// Whether posting failed on an amount no arithmetic can carry (rather than a bug).
    private static func cannotBeCharged(_ error: any Error) -> Bool {
        switch error {
        case PostingRejection.amountAboveTransferLimit, PostingRejection.overflow: true
        case is ArithmeticOverflow: true
        default: false
        }
    }
}

/// Usage findings summed per organisation and rule, so ten thousand events into a reserve are one
/// line for a person, not ten thousand.
private struct UsageOutcomes {
    /// `credits` is nil once the organisation's total for the rule passed Int64 (checked addition):
    /// the finding then says so instead of the stage failing for every organisation.
    private var totals: [String: (organisation: String, code: FindingCode, events: Int, credits: Credits?, detail: String,
                                  subject: String, severity: FindingSeverity)] = [:]

    /// `subject` (the organisation unless given, e.g. the blocking budget's scope) splits the sums.
    mutating func add(
        _ code: FindingCode, _ organisation: String, _ credits: Credits, _ detail: String, subject: String? = nil,
        severity: FindingSeverity = .exception
    ) {
        let key = "\(organisation)|\(code.rawValue)" + (subject.map { "|\($0)" } ?? "")
        var entry = totals[key] ?? (organisation, code, 0, .zero, detail, subject ?? organisation, severity)
        entry.events += 1
        entry.credits = entry.credits.flatMap { try? $0.adding(credits) }
        totals[key] = entry
    }

    var findings: [Finding] {
        totals.keys.sorted().map { key in
            let entry = totals[key]!
            let credits = entry.credits.map { "\($0) credits" } ?? "more than \(Credits(microcredits: .max)) credits"
            return Finding(
                severity: entry.severity, code: entry.code, organisationID: entry.organisation, subject: entry.subject,
                detail: "\(entry.events) usage events, \(credits): \(entry.detail)")
        }
    }
}
