import Ledger

/// Everything in one period report except the transaction detail, which is streamed.
public struct PeriodReport: Sendable, Hashable {
    public var period: ReportPeriod
    /// When the report was generated (passed in: the writers never read the clock).
    public var generatedAt: Instant
    public var summary: [OrganisationSummary]
    public var byTeam: [TeamUsage]
    public var byInvestigation: [InvestigationUsage]
    public var byOperation: [OperationUsage]
    public var dailyTrend: [DailyUsage]
    public var unusualConsumption: [UnusualConsumption]
    public var reconciliationExceptions: [ReconciliationException]

    public init(
        period: ReportPeriod, generatedAt: Instant, summary: [OrganisationSummary], byTeam: [TeamUsage] = [],
        byInvestigation: [InvestigationUsage] = [], byOperation: [OperationUsage] = [],
        dailyTrend: [DailyUsage] = [], unusualConsumption: [UnusualConsumption] = [],
        reconciliationExceptions: [ReconciliationException] = []
    ) {
        self.period = period
        self.generatedAt = generatedAt
        self.summary = summary
        self.byTeam = byTeam
        self.byInvestigation = byInvestigation
        self.byOperation = byOperation
        self.dailyTrend = dailyTrend
        self.unusualConsumption = unusualConsumption
        self.reconciliationExceptions = reconciliationExceptions
    }
}
