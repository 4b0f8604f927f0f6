/// Byte classes of RFC 8259.
enum JSONBytes {
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// "a number", "a string", ... for "expected a string, got a number" messages.
    static func typeName(startingWith byte: UInt8) -> String {
        switch byte {
        case 0x22: "a string"
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case UInt8(ascii: "-"), 0x30...0x39: "a number"
        default: "something that is not JSON"
        }
    }
}

/// Why a scan stopped: a rule, the byte offset in the record, and the field being read.
package struct ScanFailure: Error {
    var rule: RejectionRule
    var offset: Int
    var field: String?
    var detail: String
}

/// A strict RFC 8259 cursor over one record's bytes. It reads strings (decoding escapes), delimits
/// numbers by the JSON grammar, and re-writes any value in canonical form (see `canonicalValue`).
/// It never allocates for structure it does not keep, and it never recurses deeper than `depthMax`.
/// Package-wide: the service reads GraphQL request bodies with it too.
package struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    package init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    package var atEnd: Bool { index >= bytes.count }

    package func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    package mutating func skipWhitespace() {
        while index < bytes.count, JSONBytes.isWhitespace(bytes[index]) { index += 1 }
    }

    func failure(_ detail: String, field: String? = nil, at offset: Int? = nil) -> ScanFailure {
        ScanFailure(rule: .malformedJSON, offset: offset ?? index, field: field, detail: detail)
    }

    /// Consumes `byte` or fails with "expected <what>".
    package mutating func expect(_ byte: UInt8, _ what: String, field: String? = nil) throws(ScanFailure) {
        guard let next = peek() else { throw failure("expected \(what), found the end of the input", field: field) }
        guard next == byte else { throw failure("expected \(what), found \(describe(next))", field: field) }
        index += 1
    }

    func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(RecordSplitters.hex(byte))"
    }

    // MARK: Strings

    /// Reads a string starting at its opening quote and returns its decoded UTF-8 bytes.
    package mutating func readString(field: String? = nil) throws(ScanFailure) -> [UInt8] {
        var decoded: [UInt8] = []
        guard let range = try readStringRange(field: field, decoded: &decoded) else { return decoded }
        return Array(bytes[range])
    }

    /// Reads a string like `readString` but without allocating for the common case: returns the
    /// range of its raw bytes when it has no escapes, or nil with the decoded bytes in `decoded`.
    /// The scanner reads every key of every record this way.
    mutating func readStringRange(field: String? = nil, decoded: inout [UInt8]) throws(ScanFailure) -> Range<Int>? {
        try expect(0x22, "a string", field: field)
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                defer { index += 1 }
                return start..<index
            }
            if byte == 0x5C || byte < 0x20 { break }
            index += 1
        }
        decoded = Array(bytes[start..<index])
        try readEscapedRest(into: &decoded, field: field)
        return nil
    }

    /// Reads a string and appends its decoded bytes to `out`: the raw bytes in one copy when it has
    /// no escapes. Canonical objects collect their keys and values this way in one buffer.
    mutating func appendDecodedString(to out: inout [UInt8], field: String? = nil) throws(ScanFailure) {
        var decoded: [UInt8] = []
        if let range = try readStringRange(field: field, decoded: &decoded) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
        } else {
            out.append(contentsOf: decoded)
        }
    }

    private mutating func readEscapedRest(into decoded: inout [UInt8], field: String?) throws(ScanFailure) {
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22:
                index += 1
                return
            case 0x5C:
                try readEscape(into: &decoded, field: field)
            case 0..<0x20:
                throw failure("control character \(describe(byte)) inside a string must be escaped", field: field)
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string", field: field)
    }

    private mutating func readEscape(into decoded: inout [UInt8], field: String?) throws(ScanFailure) {
        let escapeStart = index
        index += 1
        guard let letter = peek() else { throw failure("unterminated string", field: field) }
        index += 1
        switch letter {
        case 0x22, 0x5C, 0x2F: decoded.append(letter)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            let scalar = try readUnicodeEscape(escapeStart: escapeStart, field: field)
            decoded.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw failure("invalid escape \\\(Character(Unicode.Scalar(letter)))", field: field, at: escapeStart)
        }
    }

    /// `\uXXXX`, combining a surrogate pair; a lone surrogate is refused (it is not a character).
    private mutating func readUnicodeEscape(escapeStart: Int, field: String?) throws(ScanFailure) -> Unicode.Scalar {
        let high = try readHex4(field: field)
        var value = high
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == 0x5C, bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("lone UTF-16 surrogate in \\u escape", field: field, at: escapeStart)
            }
            index += 2
            let low = try readHex4(field: field)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw failure("lone UTF-16 surrogate in \\u escape", field: field, at: escapeStart)
            }
            value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw failure("lone UTF-16 surrogate in \\u escape", field: field, at: escapeStart)
        }
        return scalar
    }

    private mutating func readHex4(field: String?) throws(ScanFailure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("truncated \\u escape", field: field) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in \\u escape", field: field)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    // MARK: Numbers and literals

    /// Delimits a number by the JSON grammar `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` and
    /// returns its byte range. `NaN`, `Infinity`, `+5`, `0x10`, `01`, `.5` are refused here.
    mutating func scanNumber(field: String? = nil) throws(ScanFailure) -> Range<Int> {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), JSONBytes.isDigit(first) else { throw notANumber(start, field) }
        index += 1
        if first != 0x30 { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let next = peek(), JSONBytes.isDigit(next) else { throw notANumber(start, field) }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let next = peek(), JSONBytes.isDigit(next) else { throw notANumber(start, field) }
            skipDigits()
        }
        if let next = peek(), !isDelimiter(next) { throw notANumber(start, field) }
        return start..<index
    }

    private mutating func skipDigits() {
        while let byte = peek(), JSONBytes.isDigit(byte) { index += 1 }
    }

    private func isDelimiter(_ byte: UInt8) -> Bool {
        JSONBytes.isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}")
            || byte == UInt8(ascii: "]")
    }

    private func notANumber(_ start: Int, _ field: String?) -> ScanFailure {
        var end = start
        while end < bytes.count, end - start < 24, !isDelimiter(bytes[end]) { end += 1 }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        return failure("\(text) is not a JSON number", field: field, at: start)
    }

    /// Consumes `true`, `false` or `null`; names NaN and Infinity, which JSON does not have.
    mutating func scanLiteral(field: String? = nil) throws(ScanFailure) -> Range<Int> {
        let start = index
        for word in ["true", "false", "null"] {
            let utf8 = Array(word.utf8)
            if index + utf8.count <= bytes.count, bytes[index..<index + utf8.count].elementsEqual(utf8) {
                index += utf8.count
                if let next = peek(), !isDelimiter(next) { break }
                return start..<index
            }
        }
        index = start
        let byte = bytes[start]
        if byte == UInt8(ascii: "N") || byte == UInt8(ascii: "I") {
            throw failure("NaN and Infinity are not JSON numbers", field: field)
        }
        throw failure("expected a JSON value, found \(describe(byte))", field: field)
    }
}

extension JSONCursor {
    /// Validates and steps over any value without keeping it (for walking an order export's structure).
    mutating func skipValue(depth: Int, depthMax: Int) throws(ScanFailure) {
        skipWhitespace()
        guard let byte = peek() else { throw failure("expected a value, found the end of the input") }
        switch byte {
        case 0x22: _ = try readString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < depthMax else { throw failure("nested deeper than \(depthMax) levels") }
            let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if peek() == close { index += 1; return }
            while true {
                skipWhitespace()
                if byte == UInt8(ascii: "{") {
                    _ = try readKey(field: nil)
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':' after the key")
                }
                try skipValue(depth: depth + 1, depthMax: depthMax)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { index += 1; continue }
                try expect(close, "',' or '\(Character(Unicode.Scalar(close)))'")
                return
            }
        case UInt8(ascii: "-"), 0x30...0x39: _ = try scanNumber()
        default: _ = try scanLiteral()
        }
    }
}
