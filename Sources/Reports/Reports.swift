// The Reports stage library: period reports and invoices as XLSX and CSV.
//
// Layout:
// - Model/: the values a report is made of (`PeriodReport` and its row types, `Invoice`), the
//   typed table model (`ReportColumn`, `ReportCell`) and `Allocation.largestRemainder`.
// - XLSX/: a small, safe wrapper over libxlsxwriter (`XLSXWorkbook`, `XLSXTable`, `XLSXWorksheet`).
// - CSV/: RFC 4180 rendering and an atomic streaming file writer.
// - Writers/: `PeriodReportWriter` and `InvoiceWriter`, which turn the values into files.
// - Output/: `AtomicFile` (temporary name, fsync, rename) and `ReportOutputError`.
//
// Guarantees: the writers are pure functions of their input values (no clock, no database), so
// the same values give byte-identical CSV and identical XLSX cells; no partial file is ever visible
// at a destination path; free text is never written as a formula in either format.
import Ledger
