/// How much a reconcile finding needs a person, as stored with the plan (`reconcile_findings.severity`).
public enum FindingSeverity: String, Sendable, Hashable, Codable, CaseIterable {
    /// Needs a person: the stage exits 3.
    case exception
    /// Waiting longer than expected (a pending order, a purchase never paid).
    case aged
    /// A payment that reconciled cleanly.
    case matched
    /// Retired: no rule produces it; the schema still allows it, so a plan that holds it reads.
    case info
}
