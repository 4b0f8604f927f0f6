import Foundation

extension RowStream where Row: ReportRow {
    /// Writes every row to the sheet and the CSV file (either may be absent), and checks that the
    /// stream delivered exactly the rows it counted: count and rows must come from one read
    /// transaction, and a sheet split at the row limit was laid out for that count.
    func write(to xlsx: XLSXTable?, _ csv: CSVFileWriter?, rowsName: String, directory: URL) throws {
        var delivered = 0
        try forEach { row in
            guard delivered < count else {
                throw ReportOutputError(.rowCountMismatch, path: directory.path,
                                        message: "more \(rowsName) rows than the \(count) counted")
            }
            let cells = row.cells
            try xlsx?.append(cells)
            try csv?.append(cells)
            delivered += 1
        }
        guard delivered == count else {
            throw ReportOutputError(.rowCountMismatch, path: directory.path,
                                    message: "\(delivered) \(rowsName) rows read, \(count) counted")
        }
    }
}
