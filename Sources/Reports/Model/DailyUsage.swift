import Ledger

/// One organisation's consumption on one day. Rows are expected for every day of the period
/// (zero when idle) and sorted by organisation then date, so each organisation is one chart line.
public struct DailyUsage: ReportRow, Hashable {
    public var organisationID: String
    public var date: LocalDate
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(organisationID: String, date: LocalDate, eventCount: Int64, consumption: CreditsAndMoney) {
        self.organisationID = organisationID
        self.date = date
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Date", .date),
    ] + usageColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .date(date), .integer(eventCount)] + consumption.cells
    }
}
