import Crypto
import Foundation
import Ledger

/// The digest of a plan: SHA-256 over its as-of instant, each transfer it posts (the item's
/// payload and the credits it posted) in posting order, and its findings. Reconcile takes it in
/// its dry run and `apply` again while posting for real: equal digests mean the ledger would
/// move exactly as finance reviewed it, whatever else was posted in between.
///
/// The payloads are written and hashed on a second thread, a batch of items at a time, in posting
/// order: the same bytes in the same order as hashing each item as it posts, so the same digest,
/// while the walk goes on posting (it was a twelfth of a 1M-event `reconcile --apply`).
final class PlanDigest {
    private let hashing = DispatchQueue(label: "credits.plan-digest")
    /// Touched only on `hashing`.
    private let state = PlanDigestState()
    private var batch: [(item: PlanItem, posted: Int64)] = []
    private var finalized = false

    /// Items handed to the hashing thread at once: enough to keep it busy, few enough to hold.
    static let batchSize = 4_096

    init(asOf: Instant) {
        state.update("as_of \(asOf.millisecondsSinceEpoch)\n")
        batch.reserveCapacity(Self.batchSize)
    }

    /// One posted item. The amount matters for items whose amount the ledger decides (an expiry
    /// takes what is left of its grant, a reversal what is left unspent).
    func add(_ item: PlanItem, posted amount: Credits) {
        batch.append((item, amount.microcredits))
        if batch.count == Self.batchSize { handOver() }
    }

    /// The digest, once every item is added; call once.
    func finalize(findings: [Finding]) -> String {
        precondition(!finalized, "a plan's digest is finalized once")
        finalized = true
        handOver()
        return hashing.sync {
            for finding in findings {
                let line = [finding.severity.rawValue, finding.code.rawValue, finding.organisationID ?? "-", finding.subject,
                            finding.detail].joined(separator: "\t")
                state.update("finding \(line)\n")
            }
            return state.finalize()
        }
    }

    private func handOver() {
        guard !batch.isEmpty else { return }
        let items = batch
        batch.removeAll(keepingCapacity: true)
        let state = state
        hashing.async { state.add(items) }
    }
}

/// The running hash of a `PlanDigest`, confined to its hashing queue.
private final class PlanDigestState: @unchecked Sendable {
    private var hasher = SHA256()
    /// One buffer for every item's payload (a night has a million).
    private var payload = FlatJSONArrayWriter()

    func add(_ items: [(item: PlanItem, posted: Int64)]) {
        for (item, posted) in items {
            update("item ")
            payload.reset()
            PlanItemPayload.write(item, to: &payload)
            payload.withFinishedBytes { hasher.update(bufferPointer: $0) }
            update(" posted \(posted)\n")
        }
    }

    func update(_ text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    func finalize() -> String { hasher.finalize().hexadecimal }
}

/// The seal of a stored plan: SHA-256 over every row finance reviews (as-of, aged-after days,
/// digest, summary, totals, findings), each field length-prefixed so no two plans share a text.
/// A stored plan whose rows no longer match its seal was altered after reconcile (apply: exit 65).
enum PlanSeal {
    static func of(
        asOf: Instant, agedAfterDays: Int, digest: String, summary: String, totals: [PlanTotal],
        findings: [StoredFinding]
    ) -> String {
        var hasher = SHA256()
        func field(_ text: String) {
            var text = "\(text.utf8.count):\(text);"
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        field("plan-seal/1")
        field("\(asOf.millisecondsSinceEpoch)")
        field("\(agedAfterDays)")
        field(digest)
        field(summary)
        field("totals \(totals.count)")
        for total in totals {
            field(total.organisationID)
            field(total.kind.rawValue)
            field("\(total.transfers)")
            field("\(total.credits.microcredits)")
        }
        field("findings \(findings.count)")
        for finding in findings {
            field("\(finding.seq)")
            field(finding.severity.rawValue)
            field(finding.code.rawValue)
            field(finding.organisationID.map { "+\($0)" } ?? "-")
            field(finding.subject)
            field(finding.detail)
        }
        return hasher.finalize().hexadecimal
    }

    /// Whether the stored rows still match the seal written with them.
    static func holds(for plan: StoredPlan) -> Bool {
        guard let seal = plan.seal, let agedAfterDays = plan.agedAfterDays else { return false }
        return seal == of(asOf: plan.asOf, agedAfterDays: agedAfterDays, digest: plan.digest, summary: plan.summary,
                          totals: plan.totals, findings: plan.findings)
    }
}

extension Digest {
    /// Lower-case hexadecimal, two digits per byte.
    var hexadecimal: String { map { String(format: "%02x", $0) }.joined() }
}
