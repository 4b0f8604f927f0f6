import Ledger

/// Usage must not predate its organisation (`UsageStart`, docs/INGEST.md): part of
/// `CostEventConfigurationRule`, which batch staging and `POST /v1/usage` both run.
public enum UsageDateRule {
    /// Why `record` cannot be charged to its organisation starting at `usageStart`; nil when it can.
    public static func violation(_ record: CostEventRecord, usageStart: Instant?) -> String? {
        guard let usageStart, record.occurredAt < usageStart else { return nil }
        return "\(record.occurredAt.iso8601) is before \(record.organisationID)'s usage start "
            + "(\(usageStart.iso8601): usage_start, else plan_start, else the issuer's usage_earliest); "
            + "usage from before the organisation started cannot be charged"
    }
}
