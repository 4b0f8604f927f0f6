/// One CSV record: its fields and the line it starts on (a quoted field may continue on later lines).
struct CSVRecord {
    var fields: [String]
    var line: Int
    var raw: [UInt8]
}

enum CSVOutcome {
    case record(CSVRecord)
    case rejected(Rejection)
}

/// An RFC 4180 reader: comma-separated, fields optionally quoted with `"`, a quote inside a quoted
/// field written twice, quoted fields may hold commas and line breaks; `\r\n` or `\n` endings; blank
/// lines (such as trailing ones) skipped. A quote left open at the end of the file condemns the file
/// (`csvUnbalancedQuote`: every later boundary is unknowable); a stray quote or an over-long record
/// rejects only that record.
struct CSVReader {
    let bytes: [UInt8]
    let displayName: String
    let limits: IngestLimits
    private(set) var index: Int
    private(set) var line = 1

    init(bytes: [UInt8], start: Int, linesBefore: Int, displayName: String, limits: IngestLimits) {
        self.bytes = bytes
        self.index = start
        self.line = linesBefore + 1
        self.displayName = displayName
        self.limits = limits
    }

    mutating func next() throws(InputError) -> CSVOutcome? {
        while index < bytes.count, bytes[index] == 0x0A || bytes[index] == 0x0D {
            if bytes[index] == 0x0A { line += 1 }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let startLine = line
        let start = index
        var fields: [String] = []
        var problem: (RejectionRule, String)?
        while true {
            let (field, stray) = try readField(startLine: startLine)
            fields.append(field)
            if stray, problem == nil {
                problem = (.csvStrayQuote, "a quote inside an unquoted field, or after a closing quote")
            }
            guard index < bytes.count else { break }
            let separator = bytes[index]
            index += 1
            if separator == 0x0A { line += 1; break }
            if separator == 0x0D {
                if index < bytes.count, bytes[index] == 0x0A { index += 1 }
                line += 1
                break
            }
        }
        let raw = Array(bytes[start..<index])
        if raw.count > limits.csvRecordBytesMax {
            problem = (.csvRecordTooLong, "record of \(raw.count) bytes is longer than csvRecordBytesMax "
                + "(\(limits.csvRecordBytesMax) bytes)")
        }
        if let (rule, detail) = problem {
            let kept = Array(raw.prefix(limits.rejectRawBytesMax))
            return .rejected(Rejection(rule, file: displayName, line: startLine, detail: detail, raw: kept))
        }
        return .record(CSVRecord(fields: fields, line: startLine, raw: raw))
    }

    /// Reads one field and leaves the index on the separator (`,`, `\r`, `\n`) or at the end.
    private mutating func readField(startLine: Int) throws(InputError) -> (String, stray: Bool) {
        guard index < bytes.count, bytes[index] == 0x22 else {
            let start = index
            var stray = false
            while index < bytes.count, !isSeparator(bytes[index]) {
                if bytes[index] == 0x22 { stray = true }
                index += 1
            }
            return (String(decoding: bytes[start..<index], as: UTF8.self), stray)
        }
        let quoteLine = line
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw InputError.fileRejected(Rejection(
                    .csvUnbalancedQuote, file: displayName, line: quoteLine,
                    detail: "a quoted field opened on line \(quoteLine) is never closed"))
            }
            let byte = bytes[index]
            index += 1
            if byte == 0x22 {
                if index < bytes.count, bytes[index] == 0x22 {
                    value.append(0x22)
                    index += 1
                    continue
                }
                break
            }
            if byte == 0x0A { line += 1 }
            value.append(byte)
        }
        var stray = false
        while index < bytes.count, !isSeparator(bytes[index]) {
            stray = true
            index += 1
        }
        return (String(decoding: value, as: UTF8.self), stray)
    }

    private func isSeparator(_ byte: UInt8) -> Bool { byte == 0x2C || byte == 0x0A || byte == 0x0D }
}
