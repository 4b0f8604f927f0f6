/// Reads back CSV that `CSVFormat` wrote (RFC 4180: CRLF or LF records, fields quoted only when they hold a
/// comma, a quote, CR or LF, quotes doubled), strictly: anything else is an error naming the line.
public enum CSVRecords {
    public struct Malformed: Error, Equatable {
        /// 1-based physical line where the problem is.
        public let line: Int
        public let reason: String
    }

    /// The records of `text`, each with the line it starts on.
    public static func parse(_ text: String) throws(Malformed) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        let bytes = Array(text.utf8)
        var index = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            records.append((recordLine, fields))
            fields = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") && field.isEmpty {
                index += 1
                while true {
                    guard index < bytes.count else { throw Malformed(line: line, reason: "unterminated quoted field") }
                    let inner = bytes[index]
                    if inner == UInt8(ascii: "\"") {
                        if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                            field.append(inner)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if inner == 0x0A { line += 1 }
                    field.append(inner)
                    index += 1
                }
                guard index >= bytes.count || [UInt8(ascii: ","), 0x0D, 0x0A].contains(bytes[index]) else {
                    throw Malformed(line: line, reason: "text after a closing quote")
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
            case 0x0D:
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                    throw Malformed(line: line, reason: "carriage return outside quotes not followed by a line feed")
                }
            case 0x0A:
                endRecord()
                line += 1
                recordLine = line
            case UInt8(ascii: "\""):
                throw Malformed(line: line, reason: "quote inside an unquoted field")
            default:
                field.append(byte)
            }
            index += 1
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }

    /// Undoes `CSVFormat.neutralised`: the `'` written before a text starting with `=`, `+`, `-`, `@`, TAB or CR.
    /// (A text that itself began with `'` and one of those reads back without its quote.)
    public static func unneutralised(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars.prefix(2))
        guard scalars.count == 2, scalars[0] == "'", "=+-@\t\r".unicodeScalars.contains(scalars[1]) else { return text }
        return String(text.dropFirst())
    }
}
