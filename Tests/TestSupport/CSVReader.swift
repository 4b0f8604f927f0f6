import Foundation

/// A strict RFC 4180 reader for checking what the writers produce: fields separated by commas,
/// records ended by CRLF, quoted fields with doubled quotes. Returns nil on anything malformed: a
/// bare LF or CR outside quotes, a quote inside an unquoted field, text after a closing quote, an
/// unterminated quote, or a last record without its CRLF.
public enum CSVReader {
    private enum State { case fieldStart, unquoted, quoted, afterQuote }

    public static func parse(_ text: String) -> [[String]]? {
        var records: [[String]] = []
        var record: [String] = []
        var field = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        var state = State.fieldStart
        while let scalar = scalars.popFirst() {
            switch (state, scalar) {
            case (.quoted, "\""):
                if scalars.first == "\"" {
                    scalars.removeFirst()
                    field.append("\"")
                } else {
                    state = .afterQuote
                }
            case (.quoted, _): field.append(scalar)
            case (.fieldStart, "\""): state = .quoted
            case (_, ","):
                record.append(String(field))
                (field, state) = (String.UnicodeScalarView(), .fieldStart)
            case (_, "\r"):
                guard scalars.popFirst() == "\n" else { return nil }
                record.append(String(field))
                records.append(record)
                (record, field, state) = ([], String.UnicodeScalarView(), .fieldStart)
            case (_, "\n"), (.unquoted, "\""), (.afterQuote, _): return nil
            case (.fieldStart, _), (.unquoted, _):
                field.append(scalar)
                state = .unquoted
            }
        }
        guard state == .fieldStart, field.isEmpty, record.isEmpty else { return nil }
        return records
    }
}
