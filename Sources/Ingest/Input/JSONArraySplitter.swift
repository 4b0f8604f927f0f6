/// Streams the elements of one top-level JSON array without loading the file: it tracks only string
/// and nesting state to find the commas between elements, keeps the current element (up to
/// `eventLineBytesMax`), and records the line and column where each element starts. The elements
/// themselves are parsed by the record parser; structural damage that makes element boundaries
/// unknowable (an unterminated array, an empty element, content after `]`) condemns the file.
final class JSONArraySplitter: RecordSplitter {
    private let stream: ByteStream
    private let displayName: String
    private let limits: IngestLimits
    private var line: Int
    private var column = 1
    private var afterComma = false
    private var finished = false

    init(stream: ByteStream, displayName: String, limits: IngestLimits, line: Int) {
        self.stream = stream
        self.displayName = displayName
        self.limits = limits
        self.line = line
        // The `[` has been consumed; the next byte sits on column 2 when the array opens its line.
        self.column = 2
    }

    func next() throws(InputError) -> SplitOutcome? {
        guard !finished else { return nil }
        try skipWhitespace()
        guard let byte = try stream.peek() else {
            throw fileError("the array is not closed (missing ])")
        }
        if byte == UInt8(ascii: "]") {
            if afterComma { throw fileError("trailing comma before ]") }
            advance(byte)
            try expectOnlyWhitespace()
            finished = true
            return nil
        }
        if byte == UInt8(ascii: ",") { throw fileError("empty array element (two commas, or a comma after [)") }
        return try readElement()
    }

    private func readElement() throws(InputError) -> SplitOutcome {
        let startLine = line
        let startColumn = column
        var bytes: [UInt8] = []
        var length = 0
        var significantLength = 0
        var depth = 0
        var inString = false
        var escaped = false
        while let byte = try stream.peek() {
            if !inString, depth == 0, byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") { break }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == 0x5C {
                    escaped = true
                } else if byte == 0x22 {
                    inString = false
                }
            } else {
                switch byte {
                case 0x22: inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth = max(0, depth - 1)
                default: break
                }
            }
            length += 1
            if inString || !JSONBytes.isWhitespace(byte) { significantLength = length }
            if bytes.count <= limits.eventLineBytesMax { bytes.append(byte) }
            advance(byte)
        }
        guard let terminator = try stream.peek() else { throw fileError("the array is not closed (missing ])") }
        if terminator == UInt8(ascii: ",") { advance(terminator) }
        afterComma = terminator == UInt8(ascii: ",")
        if significantLength > limits.eventLineBytesMax {
            bytes.removeSubrange(min(bytes.count, limits.rejectRawBytesMax)...)
            return .rejected(Rejection(
                .lineTooLong, file: displayName, line: startLine, column: startColumn,
                detail: "array element of \(significantLength) bytes is longer than eventLineBytesMax "
                    + "(\(limits.eventLineBytesMax) bytes)",
                raw: bytes))
        }
        bytes.removeSubrange(significantLength...)
        let record = RawRecord(line: startLine, column: startColumn, bytes: bytes)
        return RecordSplitters.checkedText(record, displayName: displayName)
    }

    private func advance(_ byte: UInt8) {
        stream.position += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    private func skipWhitespace() throws(InputError) {
        while let byte = try stream.peek(), JSONBytes.isWhitespace(byte) { advance(byte) }
    }

    private func expectOnlyWhitespace() throws(InputError) {
        try skipWhitespace()
        if try stream.peek() != nil { throw fileError("unexpected content after the closing ]") }
    }

    private func fileError(_ detail: String) -> InputError {
        .fileRejected(Rejection(.malformedJSON, file: displayName, line: line, column: column, detail: detail))
    }
}
