import Crypto
import Foundation
import Ledger

/// The digest of a plan: SHA-256 over its as-of instant, each transfer it posts (the item's
/// payload and the credits it posted) in posting order, and its findings. Reconcile takes it in
/// its dry run and `apply` again while posting for real: equal digests mean the ledger would
/// move exactly as finance reviewed it, whatever else was posted in between.
struct PlanDigest {
    private var hasher = SHA256()
    /// One buffer for every item's payload (a night has a million).
    private var payload = FlatJSONArrayWriter()

    init(asOf: Instant) {
        update("as_of \(asOf.millisecondsSinceEpoch)\n")
    }

    /// One posted item. The amount matters for items whose amount the ledger decides (an expiry
    /// takes what is left of its grant, a reversal what is left unspent).
    mutating func add(_ item: PlanItem, posted amount: Credits) {
        update("item ")
        payload.reset()
        PlanItemPayload.write(item, to: &payload)
        payload.withFinishedBytes { hasher.update(bufferPointer: $0) }
        update(" posted \(amount.microcredits)\n")
    }

    func finalize(findings: [Finding]) -> String {
        var digest = self
        for finding in findings {
            let line = [finding.severity.rawValue, finding.code.rawValue, finding.organisationID ?? "-", finding.subject, finding.detail]
                .joined(separator: "\t")
            digest.update("finding \(line)\n")
        }
        return digest.hasher.finalize().hexadecimal
    }

    private mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }
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
