/// The one stated rule for unusual consumption, shared by the report's "Unusual consumption" sheet
/// and the `unusual_consumption` alert so the two can never disagree.
///
/// A team's (or investigation's) baseline is its mean daily consumption over the `baselineDays`
/// local days before the day judged: their sum divided by `baselineDays`, rounded half-even to the
/// micro-credit. The day is unusual when its consumption is at least `ratioMin` times the baseline
/// and at least `creditsMin`. A group with no consumption in the baseline days has no baseline and
/// is never unusual. Integers only: no statistics in floating point.
public struct UnusualConsumptionRule: Sendable, Hashable {
    public var baselineDays: Int
    public var ratioMin: Int64
    public var creditsMin: Credits

    public init(baselineDays: Int = 28, ratioMin: Int64 = 3, creditsMin: Credits = Credits(100)) {
        precondition(baselineDays > 0 && ratioMin > 0, "invalid unusual-consumption rule")
        self.baselineDays = baselineDays
        self.ratioMin = ratioMin
        self.creditsMin = creditsMin
    }

    /// The baseline for `sum` micro-credits consumed over the baseline days; nil when it is not
    /// positive (no baseline, so nothing can be judged unusual).
    public func baseline(ofSum sum: Int64) -> Credits? {
        guard let mean = Checked.divide(sum, by: Int64(baselineDays), .halfEven), mean > 0 else { return nil }
        return Credits(microcredits: mean)
    }

    /// Whether a day's consumption `used` is unusual against `baseline`.
    public func isUnusual(used: Credits, baseline: Credits) -> Bool {
        guard baseline.isPositive, used >= creditsMin else { return false }
        let (limit, overflow) = baseline.microcredits.multipliedReportingOverflow(by: ratioMin)
        // An overflowing limit is above every Int64 amount, so nothing reaches it.
        return !overflow && used.microcredits >= limit
    }
}
