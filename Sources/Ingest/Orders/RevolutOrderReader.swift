/// Reads a Revolut order export in any supported format, detected from the content:
/// `{"orders": [...]}`, a bare array (current or legacy objects), JSON Lines of orders, or a
/// settlement/payments/custom report CSV (or any CSV with a `columnMapping`). gzip is detected too.
///
///     let file = try RevolutOrderReader.read(path: "inbox/orders-2026-11.csv")
///     for case .order(let order) in file.outcomes { ... }
///
/// Order exports are small (thousands of rows), so the file is read whole, up to `orderFileBytesMax`.
public enum RevolutOrderReader {
    /// Throws `.fileMissing` (66), `.ioFailure` (74), or `.fileRejected` (65) for a file that cannot be
    /// used at all; bad records come back as `.rejected` outcomes.
    public static func read(
        path: String, displayName: String? = nil, columnMapping: RevolutCSVColumnMapping? = nil,
        limits: IngestLimits = .standard
    ) throws(InputError) -> RevolutOrderFile {
        let name = displayName ?? path
        let opened = try InputOpener.open(path: path, displayName: name, limits: limits)
        let bytes = try readWhole(opened.source, name: name, limits: limits)
        if let refusal = ForeignEncoding.refusal(bytes[...], displayName: name) { throw .fileRejected(refusal) }
        var start = bytes.starts(with: RecordSplitters.byteOrderMark) ? RecordSplitters.byteOrderMark.count : 0
        var linesBefore = 0
        while start < bytes.count, JSONBytes.isWhitespace(bytes[start]) {
            if bytes[start] == 0x0A { linesBefore += 1 }
            start += 1
        }
        guard start < bytes.count else {
            throw .fileRejected(Rejection(.inputEmpty, file: name, detail: "the file holds no orders"))
        }
        if let problem = UTF8Check.firstProblem(in: bytes) {
            throw .fileRejected(encodingRejection(problem, bytes: bytes, name: name))
        }
        let outcomes: (RevolutOrderFileFormat, [RevolutOrderOutcome])
        if bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") {
            outcomes = try readJSON(bytes, start: start, name: name)
        } else {
            outcomes = try readCSV(
                bytes, start: start, linesBefore: linesBefore, name: name, mapping: columnMapping, limits: limits)
        }
        return RevolutOrderFile(displayName: name, format: outcomes.0, isGzip: opened.isGzip, outcomes: outcomes.1)
    }

    private static func readWhole(_ source: any ChunkSource, name: String, limits: IngestLimits) throws(InputError)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        while true {
            let chunk = try source.nextChunk()
            if chunk.isEmpty { return bytes }
            bytes += chunk
            if bytes.count > limits.orderFileBytesMax {
                throw .fileRejected(Rejection(
                    .fileTooLarge, file: name,
                    detail: "larger than orderFileBytesMax (\(limits.orderFileBytesMax) bytes)"))
            }
        }
    }

    private static func encodingRejection(_ problem: UTF8Check.Problem, bytes: [UInt8], name: String) -> Rejection {
        switch problem {
        case .invalid(let offset):
            let line = bytes[..<offset].filter { $0 == 0x0A }.count + 1
            return Rejection(.invalidUTF8, file: name, line: line, detail: "invalid UTF-8 byte 0x"
                + RecordSplitters.hex(bytes[offset]))
        case .nul(let offset):
            let line = bytes[..<offset].filter { $0 == 0x0A }.count + 1
            return Rejection(.nulByte, file: name, line: line, detail: "NUL byte in the file")
        }
    }

    private static func readJSON(_ bytes: [UInt8], start: Int, name: String) throws(InputError)
        -> (RevolutOrderFileFormat, [RevolutOrderOutcome])
    {
        let json = RevolutJSONOrders(displayName: name, bytes: bytes)
        let (format, elements) = try json.locate(start: start)
        if let elements {
            return (format, elements.map { json.order(in: $0, line: json.line(ofOffset: $0.lowerBound)) })
        }
        var outcomes: [RevolutOrderOutcome] = []
        var lineStart = 0
        var lineNumber = 1
        while lineStart < bytes.count {
            let end = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            var range = lineStart..<end
            while let last = range.last, JSONBytes.isWhitespace(bytes[last]) { range = range.lowerBound..<last }
            while let first = range.first, JSONBytes.isWhitespace(bytes[first]) {
                range = (first + 1)..<range.upperBound
            }
            if lineStart >= start, !range.isEmpty { outcomes.append(json.order(in: range, line: lineNumber)) }
            lineStart = end + 1
            lineNumber += 1
        }
        return (.jsonLines, outcomes)
    }

    private static func readCSV(
        _ bytes: [UInt8], start: Int, linesBefore: Int, name: String, mapping: RevolutCSVColumnMapping?,
        limits: IngestLimits
    ) throws(InputError) -> (RevolutOrderFileFormat, [RevolutOrderOutcome]) {
        var reader = CSVReader(bytes: bytes, start: start, linesBefore: linesBefore, displayName: name, limits: limits)
        let csv = RevolutCSVOrders(displayName: name, limits: limits)
        guard case .record(let header)? = try reader.next() else {
            throw .fileRejected(Rejection(.csvHeaderMissing, file: name, line: linesBefore + 1,
                detail: "the first line is not a readable header row"))
        }
        let (format, columns) = try csv.layout(header: header, override: mapping)
        var outcomes: [RevolutOrderOutcome] = []
        while let next = try reader.next() {
            switch next {
            case .record(let record):
                outcomes.append(csv.order(record, header: header.fields, mapping: columns, format: format))
            case .rejected(let rejection): outcomes.append(.rejected(rejection))
            }
        }
        return (format, outcomes)
    }
}
