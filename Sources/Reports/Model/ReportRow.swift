import Ledger

/// A row type of a report table: its columns and the cells of one value.
public protocol ReportRow: Sendable {
    /// The table's columns, in order.
    static var columns: [ReportColumn] { get }
    /// This row's cells, one per column.
    var cells: [ReportCell] { get }
}
