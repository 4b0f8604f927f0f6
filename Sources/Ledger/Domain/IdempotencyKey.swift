/// Every idempotency key the system derives for a transfer, built in one place. The key is what makes
/// a posting exactly-once across paths: the live usage route and reconcile charge a cost event under
/// the same key, the webhook and reconcile credit a Revolut order under the same key. A tidy test
/// refuses these prefixes written anywhere else, so two paths cannot drift apart.
///
/// Keys an administrator chooses (`ledger adjust --key`, GraphQL `idempotencyKey`) are taken as given.
public enum IdempotencyKey {
    /// The deduction that charges one cost event: `deduction:cost-event:<event id>`.
    public static func deduction(costEventID: String) -> String { "deduction:cost-event:\(costEventID)" }

    /// A batch's run of usage (`UsageRun`): one deduction charging many cost events, named by its
    /// organisation and first event as a digest (an event id may be 200 bytes): `usage-run:<sha256>`.
    public static func usageRun(organisationID: String, firstEventID: String) -> String {
        usageRunPrefix + ContentHash.of([organisationID, firstEventID])
    }

    /// Whether `key` names a usage run (whose events are its `usage_charges`).
    public static func isUsageRun(_ key: String) -> Bool { key.hasPrefix(usageRunPrefix) }

    private static let usageRunPrefix = "usage-run:"

    /// The deduction that settles one hold: `deduction:hold:<hold id>`.
    public static func holdSettlement(holdID: Int64) -> String { "deduction:hold:\(holdID)" }

    /// The top-up that credits one completed Revolut payment order: `top-up:revolut:<order id>`.
    public static func topUp(revolutOrderID: String) -> String { "top-up:revolut:\(revolutOrderID)" }

    /// The reversal of a refund or chargeback order: `reversal:revolut:<refund order id>`.
    public static func reversal(revolutOrderID: String) -> String { "reversal:revolut:\(revolutOrderID)" }

    /// A plan's allocation for one organisation and period: `allocation:<org>:<period label>`.
    public static func allocation(organisationID: String, period: String) -> String {
        "allocation:\(organisationID):\(period)"
    }

    /// The expiry of what is left of a grant, named by the key of the transfer that created it.
    public static func expiry(grantKey: String) -> String { "expiry:\(grantKey)" }
}
