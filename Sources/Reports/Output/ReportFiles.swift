import Foundation

/// The files of one report being written, published together at the end: the workbook first,
/// then the CSV files in the order they were written, each renamed into place by its own
/// `commit`. Every report writer (period report, reconciliation report, invoice) ends with this.
struct ReportFiles {
    var workbook: XLSXWorkbook?
    var csvFiles: [CSVFileWriter] = []

    /// Renames every file into place; returns them in that order.
    func commit() throws(ReportOutputError) -> [URL] {
        var urls: [URL] = []
        if let workbook {
            try workbook.commit()
            urls.append(workbook.destination)
        }
        for csv in csvFiles {
            try csv.commit()
            urls.append(csv.destination)
        }
        return urls
    }
}
