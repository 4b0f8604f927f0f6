import Foundation

/// The files a writer fills: at most one workbook and any number of CSV files, each written to a
/// temporary beside its destination. `commit` moves each into place once every one is complete.
enum ReportFiles {
    /// Commits the workbook, then the CSV files in order; returns their destinations in that order.
    static func commit(_ workbook: XLSXWorkbook?, _ csvFiles: [CSVFileWriter]) throws(ReportOutputError) -> [URL] {
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
