import Crypto
import Foundation
import Ledger

/// `credits reconcile`: computes the plan of transfers that would bring the ledger up to date as
/// of an instant, without changing any balance.
///
/// Method: gather candidate items (plan allocations, payment top-ups and reversals, usage
/// deductions, expiries), sort them into posting order, then post them in a dry run that is rolled
/// back. The dry run tells exactly what posting will do (which usage goes into reserves or
/// overdraft, which is beyond the overdraft limit, what a refund can still take back); items that
/// post nothing are dropped. What remains is stored with its digest, for `apply` to post as is.
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
            var items = try Allocations.due(reader: reader, asOf: options.asOf)
            var payments = PaymentMatcher(reader: reader, asOf: options.asOf, agedAfterDays: options.agedAfterDays)
            try payments.run()
            items += payments.items
            var usage = UsageCharges(reader: reader, asOf: options.asOf)
            try usage.run()
            items += usage.items
            items += try Expiries.due(reader: reader, asOf: options.asOf, planned: items)
            items.sort(by: PlanItem.postingOrder)

            var findings = payments.findings + usage.findings
            let planned = try tx.dryRun { dry in try simulate(items, in: dry, findings: &findings) }
            return try store(planned.map(\.item), amounts: planned.map(\.amount), findings: findings, options: options, in: tx)
        }
    }

    /// Posts each item in the dry run; keeps those that post a transfer and turns the outcomes a
    /// person should see into findings (aggregated per organisation for usage).
    private static func simulate(
        _ items: [PlanItem], in tx: LedgerTransaction, findings: inout [Finding]
    ) throws -> [(item: PlanItem, amount: Credits)] {
        var kept: [(item: PlanItem, amount: Credits)] = []
        var usage = UsageOutcomes()
        for item in items {
            let outcome: ItemOutcome
            do {
                outcome = try item.post(in: tx)
            } catch PostingRejection.exceedsOverdraftLimit(let requested, let available, let limit) {
                try usage.add(FindingCode.usageBeyondOverdraftLimit, item.organisationID, requested,
                          "not charged: \(available) available, overdraft limit \(limit)")
                continue
            }
            if outcome.intoReserve.isPositive {
                try usage.add(FindingCode.usageIntoReserve, item.organisationID, outcome.intoReserve, "charged into reserved capacity")
            }
            if outcome.overdraft.isPositive {
                try usage.add(FindingCode.usageInOverdraft, item.organisationID, outcome.overdraft, "charged beyond every grant")
            }
            if item.kind == .reversal, outcome.alreadySpent.isPositive {
                findings.append(Finding(
                    severity: .exception, code: FindingCode.refundAfterSpend, organisationID: item.organisationID,
                    subject: item.references.revolutOrderID ?? item.idempotencyKey,
                    detail: "\(outcome.alreadySpent) of \(item.credits!) refunded credits were already spent"))
            }
            if let transfer = outcome.transfer { kept.append((item, transfer.amount)) }
        }
        findings += usage.findings
        return kept
    }

    private static func store(
        _ items: [PlanItem], amounts: [Credits], findings: [Finding], options: Options, in tx: LedgerTransaction
    ) throws -> Summary {
        let payloads = items.map(PlanItemPayload.encode)
        var digester = PlanDigest(asOf: options.asOf)
        for payload in payloads { digester.add(payload: payload) }
        let digest = digester.finalize(findings: findings)
        let latest = try tx.reader.latestPlan()
        // Reuse only an intact identical plan: same digest and the same stored rows, so a plan
        // altered after it was stored is replaced rather than handed to apply again.
        let reuse = try latest.map { plan in
            guard plan.digest == digest, plan.itemCount == payloads.count, plan.status == .planned || items.isEmpty
            else { return false }
            var same = true
            try tx.reader.forEachPlanItem(ofPlan: plan.id) { stored in
                same = same && payloads.indices.contains(stored.seq) && stored.payload == payloads[stored.seq]
            }
            return same
        } ?? false
        let planID: Int64
        if reuse, let latest {
            planID = latest.id
        } else {
            let stored = zip(items, payloads).enumerated().map { seq, pair in
                StoredPlanItem(seq: seq, kind: pair.0.kind.rawValue, organisationID: pair.0.organisationID,
                               idempotencyKey: pair.0.idempotencyKey, payload: pair.1)
            }
            let storedFindings = findings.enumerated().map { seq, finding in
                StoredFinding(seq: seq, severity: finding.severity.rawValue, code: finding.code,
                              organisationID: finding.organisationID, subject: finding.subject, detail: finding.detail)
            }
            planID = try tx.savePlan(
                asOf: options.asOf, ledgerPosition: try tx.reader.ledgerPosition(), digest: digest,
                summary: "\(items.count) items, \(findings.count) findings", items: stored, findings: storedFindings)
        }
        var counts: [String: Int] = [:]
        var credits: [String: Credits] = [:]
        for (item, amount) in zip(items, amounts) {
            counts[item.kind.rawValue, default: 0] += 1
            credits[item.kind.rawValue] = try (credits[item.kind.rawValue] ?? .zero).adding(amount)
        }
        return Summary(
            planID: planID, digest: digest, newPlan: !reuse, asOf: options.asOf, items: counts, credits: credits,
            findings: Dictionary(grouping: findings, by: \.severity.rawValue).mapValues(\.count),
            exceptions: findings.filter { $0.severity == .exception }, aged: findings.filter { $0.severity == .aged })
    }
}

/// Usage findings summed per organisation and rule, so ten thousand events into a reserve are one
/// line for a person, not ten thousand.
private struct UsageOutcomes {
    private var totals: [String: (organisation: String, code: String, events: Int, credits: Credits, detail: String)] = [:]

    mutating func add(_ code: String, _ organisation: String, _ credits: Credits, _ detail: String) throws {
        let key = "\(organisation)|\(code)"
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
        var digest = self
        for finding in findings {
            let line = [finding.severity.rawValue, finding.code, finding.organisationID ?? "-", finding.subject, finding.detail]
                .joined(separator: "\t")
            digest.update("finding \(line)\n")
        }
        return digest.hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }
}
