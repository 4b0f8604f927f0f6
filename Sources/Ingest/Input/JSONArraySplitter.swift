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
        var scan = ElementScan()
        // Scan whole chunks at a time; only the element's own bytes are copied, up to the limit + 1.
        while try stream.fill() {
            let chunk = stream.chunk
            let start = stream.position
            let end = scan.advance(over: chunk, from: start, line: &line, column: &column)
            let room = limits.eventLineBytesMax + 1 - bytes.count
            if room > 0 { bytes.append(contentsOf: chunk[start..<min(end, start + room)]) }
            stream.position = end
            if scan.finished { break }
        }
        let significantLength = scan.significantLength
        guard let terminator = try stream.peek() else { throw fileError("the array is not closed (missing ])") }
        if terminator == UInt8(ascii: ",") {
            stream.position += 1
            column += 1
        }
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

/// The string and nesting state of one array element being scanned, so a chunk can be walked in a
/// tight loop and the scan resumed in the next chunk.
private struct ElementScan {
    var depth = 0
    var inString = false
    var escaped = false
    var length = 0
    var significantLength = 0
    var finished = false

    /// Walks `chunk` from `start` until the element ends (a `,` or `]` outside strings at depth 0,
    /// left unconsumed) or the chunk does; returns where it stopped. Tracks line and column.
    mutating func advance(over chunk: [UInt8], from start: Int, line: inout Int, column: inout Int) -> Int {
        var index = start
        while index < chunk.count {
            let byte = chunk[index]
            if !inString, depth == 0, byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") {
                finished = true
                return index
            }
            step(byte)
            length += 1
            if inString || !JSONBytes.isWhitespace(byte) { significantLength = length }
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += 1
        }
        return index
    }

    private mutating func step(_ byte: UInt8) {
        if inString {
            if escaped {
                escaped = false
            } else if byte == 0x5C {
                escaped = true
            } else if byte == 0x22 {
                inString = false
            }
            return
        }
        switch byte {
        case 0x22: inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth = max(0, depth - 1)
        default: break
        }
    }
}
