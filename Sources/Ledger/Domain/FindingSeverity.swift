/// How much a reconcile finding needs a person, as stored with the plan (`reconcile_findings.severity`).
public enum FindingSeverity: String, Sendable, Hashable, Codable, CaseIterable {
    /// Needs a person: the stage exits 3.
    case exception
    /// Waiting longer than expected (a pending order, a purchase never paid).
    case aged
    /// A payment that reconciled cleanly.
    case matched
    /// Noted, needs no person: usage charged past a soft budget (`budgetSoftExceeded`). (Retired
    /// before budgets; the schema always allowed it.)
    case info
}
