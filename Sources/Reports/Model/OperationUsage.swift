import Ledger

/// Consumption by one operation (`llm.completion`, `ocr`, ...) over the period.
public struct OperationUsage: ReportRow, Hashable {
    public var organisationID: String
    public var operation: String
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(organisationID: String, operation: String, eventCount: Int64, consumption: CreditsAndMoney) {
        self.organisationID = organisationID
        self.operation = operation
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Operation", .text, width: 20),
    ] + usageColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .text(operation), .integer(eventCount)] + consumption.cells
    }
}
