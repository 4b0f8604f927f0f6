import Ledger

/// A team or investigation that consumed far above its own baseline on a day.
public struct UnusualConsumption: ReportRow, Hashable {
    public var organisationID: String
    /// `team` or `investigation`.
    public var scope: String
    public var name: String
    public var date: LocalDate
    public var consumption: Credits
    /// The baseline daily consumption it was compared with.
    public var baseline: Credits
    /// consumption / baseline, as computed by the detector (exact decimal).
    public var ratio: ExactDecimal

    public init(
        organisationID: String, scope: String, name: String, date: LocalDate, consumption: Credits,
        baseline: Credits, ratio: ExactDecimal
    ) {
        self.organisationID = organisationID
        self.scope = scope
        self.name = name
        self.date = date
        self.consumption = consumption
        self.baseline = baseline
        self.ratio = ratio
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text), ReportColumn("Scope", .text, width: 14),
        ReportColumn("Name", .text, width: 24), ReportColumn("Date", .date),
        ReportColumn("Consumption credits", .credits), ReportColumn("Baseline credits per day", .credits),
        ReportColumn("Ratio to baseline", .decimal),
    ]

    public var cells: [ReportCell] {
        [.text(organisationID), .text(scope), .text(name), .date(date), .credits(consumption), .credits(baseline),
         .decimal(ratio)]
    }
}
