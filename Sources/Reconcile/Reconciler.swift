import Crypto
import Foundation
import Ledger

/// `credits reconcile`: computes the plan of transfers that would bring the ledger up to date as
/// of an instant, without changing any balance.
///
/// Method: the candidate items (plan allocations, payment top-ups and reversals and expiries,
/// which are few and held in memory, and usage deductions, streamed from the staged events) are
/// walked in posting order twice. First they are posted in a dry run that is rolled back: it tells
/// exactly what posting will do (which usage goes into reserves or overdraft, which is beyond the
/// overdraft limit, what a refund can still take back), and items that post nothing are dropped.
/// Then, unless an identical plan is already stored, the walk is repeated to store what remains
/// with its digest, for `apply` to post as is. Neither walk holds the deductions, so memory does
/// not grow with the number of events.
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
        public var asOf: Instant
        public var items: [String: Int]
        /// Credits each kind of item posts, as found by the dry run.
        public var credits: [String: Credits]
        public var findings: [String: Int]
        public var exceptions: [Finding]
        public var aged: [Finding]

        public var needsReview: Bool { !exceptions.isEmpty }
    }

    public static func reconcile(_ ledger: LedgerDatabase, options: Options) throws -> Summary {
        try ledger.write { tx in
            let reader = tx.reader
            var others = try Allocations.due(reader: reader, asOf: options.asOf)
            var payments = PaymentMatcher(reader: reader, asOf: options.asOf, agedAfterDays: options.agedAfterDays)
            try payments.run()
            others += payments.items
            others += try Expiries.due(reader: reader, asOf: options.asOf, planned: others)
            others.sort(by: PlanItem.postingOrder)
            var candidates = Candidates(others: others, usage: UsageCharges(reader: reader, asOf: options.asOf))
            let previous = try reader.latestPlan()
            let ledgerPosition = try reader.ledgerPosition()

            // First pass, rolled back: what posting each candidate does.
            var dryRun = DryRun(asOf: options.asOf)
            try tx.dryRun { dry in try candidates.forEach { ordinal, item in try dryRun.post(ordinal, item, in: dry) } }
            let findings = payments.findings + candidates.usage.findings + dryRun.findings
            let digest = dryRun.digest.finalize(findings: findings)

            // Reuse only an intact identical plan, so a plan altered after it was stored is
            // replaced rather than handed to apply again.
            let summary = { (planID: Int64, newPlan: Bool) in
                Summary(
                    planID: planID, digest: digest, newPlan: newPlan, asOf: options.asOf, items: dryRun.counts,
                    credits: dryRun.credits, findings: Dictionary(grouping: findings, by: \.severity.rawValue).mapValues(\.count),
                    exceptions: findings.filter { $0.severity == .exception }, aged: findings.filter { $0.severity == .aged })
            }
            if let previous, previous.digest == digest, previous.itemCount == dryRun.kept,
                previous.status == .planned || dryRun.kept == 0, try isIntact(previous, reader: reader) {
                return summary(previous.id, false)
            }

            // Second pass: the same candidates again (the rollback restored the ledger they
            // come from), storing those that post.
            let planID = try tx.savePlan(
                asOf: options.asOf, ledgerPosition: ledgerPosition, digest: digest,
                summary: "\(dryRun.kept) items, \(findings.count) findings",
                findings: findings.enumerated().map { seq, finding in
                    StoredFinding(seq: seq, severity: finding.severity.rawValue, code: finding.code.rawValue,
                                  organisationID: finding.organisationID, subject: finding.subject, detail: finding.detail)
                })
            var seq = 0
            try candidates.forEach { ordinal, item in
                guard !dryRun.dropped.contains(ordinal) else { return }
                try tx.addPlanItem(
                    StoredPlanItem(seq: seq, kind: item.kind.rawValue, organisationID: item.organisationID,
                                   idempotencyKey: item.idempotencyKey, payload: item.payload),
                    toPlan: planID)
                seq += 1
            }
            precondition(seq == dryRun.kept, "the second pass must see the candidates the dry run saw")
            return summary(planID, true)
        }
    }

    /// Whether a stored plan's items and findings still hash to its digest.
    static func isIntact(_ plan: StoredPlan, reader: LedgerReader) throws -> Bool {
        var digest = PlanDigest(asOf: plan.asOf)
        try reader.forEachPlanItem(ofPlan: plan.id) { digest.add(payload: $0.payload) }
        return digest.finalize(stored: plan.findings) == plan.digest
    }
}

/// Every item a plan could hold, in posting order: the few allocations, payments and expiries
/// (in memory), merged with the deductions streamed from the staged events.
private struct Candidates {
    let others: [PlanItem]
    var usage: UsageCharges

    /// Calls `body` with each candidate and its ordinal; the same ordinals on the same ledger.
    mutating func forEach(_ body: (Int, PlanItem) throws -> Void) throws {
        var ordinal = 0
        var pending = others[...]
        func emit(_ item: PlanItem) throws {
            try body(ordinal, item)
            ordinal += 1
        }
        try usage.forEach { deduction in
            while let next = pending.first, PlanItem.postingOrder(next, deduction) {
                try emit(next)
                pending = pending.dropFirst()
            }
            try emit(deduction)
        }
        for item in pending { try emit(item) }
    }
}

/// What posting the candidates did in the dry run: which post nothing (dropped from the plan),
/// the digest of those that post, totals, and the outcomes a person should see as findings
/// (aggregated per organisation for usage).
private struct DryRun {
    var digest: PlanDigest
    private(set) var dropped: Set<Int> = []
    private(set) var kept = 0
    private(set) var counts: [String: Int] = [:]
    private(set) var credits: [String: Credits] = [:]
    private var refunds: [Finding] = []
    private var usage = UsageOutcomes()

    init(asOf: Instant) {
        digest = PlanDigest(asOf: asOf)
    }

    var findings: [Finding] { refunds + usage.findings }

    mutating func post(_ ordinal: Int, _ item: PlanItem, in tx: LedgerTransaction) throws {
        let outcome: ItemOutcome
        do {
            outcome = try item.post(in: tx)
        } catch PostingRejection.exceedsOverdraftLimit(let requested, let available, let limit) {
            try usage.add(FindingCode.usageBeyondOverdraftLimit, item.organisationID, requested,
                          "not charged: \(available) available, overdraft limit \(limit)")
            dropped.insert(ordinal)
            return
        }
        if outcome.intoReserve.isPositive {
            try usage.add(FindingCode.usageIntoReserve, item.organisationID, outcome.intoReserve, "charged into reserved capacity")
        }
        if outcome.overdraft.isPositive {
            try usage.add(FindingCode.usageInOverdraft, item.organisationID, outcome.overdraft, "charged beyond every grant")
        }
        if item.kind == .reversal, outcome.alreadySpent.isPositive {
            refunds.append(Finding(
                severity: .exception, code: FindingCode.refundAfterSpend, organisationID: item.organisationID,
                subject: item.references.revolutOrderID ?? item.idempotencyKey,
                detail: "\(outcome.alreadySpent) of \(item.credits ?? .zero) refunded credits were already spent"))
        }
        guard let transfer = outcome.transfer else {
            dropped.insert(ordinal)
            return
        }
        digest.add(payload: item.payload)
        kept += 1
        counts[item.kind.rawValue, default: 0] += 1
        credits[item.kind.rawValue] = try (credits[item.kind.rawValue] ?? .zero).adding(transfer.amount)
    }
}

/// Usage findings summed per organisation and rule, so ten thousand events into a reserve are one
/// line for a person, not ten thousand.
private struct UsageOutcomes {
    private var totals: [String: (organisation: String, code: FindingCode, events: Int, credits: Credits, detail: String)] = [:]

    mutating func add(_ code: FindingCode, _ organisation: String, _ credits: Credits, _ detail: String) throws {
        let key = "\(organisation)|\(code.rawValue)"
        var entry = totals[key] ?? (organisation, code, 0, .zero, detail)
        entry.events += 1
        entry.credits = try entry.credits.adding(credits)
        totals[key] = entry
    }

    var findings: [Finding] {
        totals.keys.sorted().map { key in
            let entry = totals[key]!
            return Finding(
                severity: .exception, code: entry.code, organisationID: entry.organisation, subject: entry.organisation,
                detail: "\(entry.events) usage events, \(entry.credits) credits: \(entry.detail)")
        }
    }
}

/// The digest of a plan: SHA-256 over its as-of instant, its item payloads in posting order and
/// its findings. `apply` recomputes it from the stored rows to detect an altered plan.
struct PlanDigest {
    private var hasher = SHA256()

    init(asOf: Instant) {
        update("as_of \(asOf.millisecondsSinceEpoch)\n")
    }

    mutating func add(payload: String) {
        update("item ")
        update(payload)
        update("\n")
    }

    func finalize(findings: [Finding]) -> String {
        finalize(lines: findings.map { [$0.severity.rawValue, $0.code.rawValue, $0.organisationID ?? "-", $0.subject, $0.detail] })
    }

    /// The digest over findings as stored, so a stored plan re-hashes exactly as written.
    func finalize(stored findings: [StoredFinding]) -> String {
        finalize(lines: findings.map { [$0.severity, $0.code, $0.organisationID ?? "-", $0.subject, $0.detail] })
    }

    private func finalize(lines: [[String]]) -> String {
        var digest = self
        for line in lines {
            digest.update("finding \(line.joined(separator: "\t"))\n")
        }
        return digest.hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }
}
