/// One record's bytes and where it starts in the file (1-based line and byte column).
struct RawRecord {
    var line: Int
    var column: Int
    var bytes: [UInt8]

    /// The line and column of byte `offset` of this record (array elements may span lines).
    func position(ofOffset offset: Int) -> (line: Int, column: Int) {
        var line = self.line
        var lineStart = -self.column + 1
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }
}

enum SplitOutcome {
    case record(RawRecord)
    case rejected(Rejection)
}

/// Splits a byte stream into records; file-level failures are thrown, record-level ones returned.
protocol RecordSplitter: AnyObject {
    func next() throws(InputError) -> SplitOutcome?
}

/// How a cost-event file lays out its records, decided from its first significant byte.
public enum EventFileLayout: String, Sendable, Hashable {
    /// One JSON value per line.
    case jsonLines
    /// One top-level JSON array of values.
    case jsonArray
}

enum RecordSplitters {
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Skips a UTF-8 byte order mark and leading whitespace, then picks the layout: `[` means a JSON
    /// array, anything else JSON Lines (so a bad first line is one rejected record, not a lost file).
    static func detect(stream: ByteStream, displayName: String, limits: IngestLimits) throws(InputError)
        -> (RecordSplitter, EventFileLayout)
    {
        try refuseForeignEncoding(stream: stream, displayName: displayName)
        if try stream.fill(), stream.chunk[stream.position...].starts(with: byteOrderMark) {
            stream.position += byteOrderMark.count
        }
        var linesSkipped = 0
        while let byte = try stream.peek(), JSONBytes.isWhitespace(byte) {
            if byte == 0x0A { linesSkipped += 1 }
            stream.position += 1
        }
        guard let first = try stream.peek() else {
            throw InputError.fileRejected(
                Rejection(.inputEmpty, file: displayName, detail: "the file holds no records"))
        }
        if first == UInt8(ascii: "[") {
            stream.position += 1
            let splitter = JSONArraySplitter(
                stream: stream, displayName: displayName, limits: limits, line: linesSkipped + 1)
            return (splitter, .jsonArray)
        }
        let splitter = JSONLinesSplitter(
            stream: stream, displayName: displayName, limits: limits, linesBefore: linesSkipped)
        return (splitter, .jsonLines)
    }

    /// A UTF-16 or UTF-32 file would otherwise be refused line by line (NUL bytes everywhere); one
    /// clear file-level error says what is wrong (`ForeignEncoding`).
    private static func refuseForeignEncoding(stream: ByteStream, displayName: String) throws(InputError) {
        guard try stream.fill() else { return }
        if let refusal = ForeignEncoding.refusal(stream.chunk[stream.position...], displayName: displayName) {
            throw InputError.fileRejected(refusal)
        }
    }

    static func checkedText(
        _ record: RawRecord, displayName: String
    ) -> SplitOutcome {
        let problem = record.bytes.withUnsafeBufferPointer { UTF8Check.firstProblem(in: $0) }
        switch problem {
        case nil: return .record(record)
        case .invalid(let offset):
            let at = record.position(ofOffset: offset)
            return .rejected(Rejection(
                .invalidUTF8, file: displayName, line: at.line, column: at.column,
                detail: "invalid UTF-8 byte 0x\(hex(record.bytes[offset]))", raw: record.bytes))
        case .nul(let offset):
            let at = record.position(ofOffset: offset)
            return .rejected(Rejection(
                .nulByte, file: displayName, line: at.line, column: at.column,
                detail: "NUL byte in the record", raw: record.bytes))
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}

/// JSON Lines: one record per line, `\n` or `\r\n` endings, blank lines ignored. A line longer than
/// `eventLineBytesMax` is skipped without being buffered whole (only its first bytes are kept for the
/// rejects file) and rejected `lineTooLong`.
final class JSONLinesSplitter: RecordSplitter {
    private let stream: ByteStream
    private let displayName: String
    private let limits: IngestLimits
    private var lineNumber: Int

    init(stream: ByteStream, displayName: String, limits: IngestLimits, linesBefore: Int) {
        self.stream = stream
        self.displayName = displayName
        self.limits = limits
        self.lineNumber = linesBefore
    }

    func next() throws(InputError) -> SplitOutcome? {
        while try stream.fill() {
            lineNumber += 1
            var (bytes, length, tooLong) = try readLine()
            if tooLong {
                return .rejected(Rejection(
                    .lineTooLong, file: displayName, line: lineNumber,
                    detail: "line of \(length) bytes is longer than eventLineBytesMax "
                        + "(\(limits.eventLineBytesMax) bytes)",
                    raw: bytes))
            }
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy(JSONBytes.isWhitespace) { continue }
            return RecordSplitters.checkedText(
                RawRecord(line: lineNumber, column: 1, bytes: bytes), displayName: displayName)
        }
        return nil
    }

    /// Reads up to and including the next `\n`. Keeps at most `eventLineBytesMax + 1` bytes (room for a
    /// `\r`); past that only the first `rejectRawBytesMax` bytes are kept and the rest counted.
    private func readLine() throws(InputError) -> (bytes: [UInt8], length: Int, tooLong: Bool) {
        var current: [UInt8] = []
        var length = 0
        var tooLong = false
        let keepMax = limits.eventLineBytesMax + 1
        while try stream.fill() {
            let chunk = stream.chunk
            let start = stream.position
            let newline = chunk[start...].firstIndex(of: 0x0A)
            let end = newline ?? chunk.count
            length += end - start
            if !tooLong {
                if current.count + (end - start) <= keepMax {
                    current.append(contentsOf: chunk[start..<end])
                } else {
                    tooLong = true
                    let room = max(0, limits.rejectRawBytesMax - current.count)
                    current.append(contentsOf: chunk[start..<min(end, start + room)])
                    if current.count > limits.rejectRawBytesMax {
                        current.removeSubrange(limits.rejectRawBytesMax...)
                    }
                }
            }
            stream.position = newline.map { $0 + 1 } ?? end
            if newline != nil { break }
        }
        if !tooLong, current.count > limits.eventLineBytesMax, current.last != 0x0D { tooLong = true }
        if !tooLong, current.count > limits.eventLineBytesMax + 1 { tooLong = true }
        if tooLong, current.count > limits.rejectRawBytesMax { current.removeSubrange(limits.rejectRawBytesMax...) }
        let contentLength = (!tooLong && current.last == 0x0D) ? length - 1 : length
        return (current, contentLength, tooLong)
    }
}
