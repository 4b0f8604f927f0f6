/// Canonical JSON: the byte form used to compare and hash content, so the same event written with a
/// different key order, whitespace or string escaping hashes equal.
///
/// The rule (documented in docs/INGEST.md):
/// 1. No whitespace outside strings.
/// 2. Object members sorted by the UTF-8 bytes of their decoded keys; a repeated key is refused.
/// 3. Strings decoded, then written with the shortest escapes: `\"`, `\\`, `\b \f \n \r \t`, other
///    control characters as `\u00xx` (lower-case hex); everything else, `/` and non-ASCII included,
///    as raw UTF-8.
/// 4. Numbers, `true`, `false`, `null` exactly as written (`1.0` and `1` differ inside free-form
///    values; the typed fields `credits`, `quantity`, `occurred_at` are normalised by their parsers).
enum CanonicalJSON {
    static func appendString(_ decoded: [UInt8], to out: inout [UInt8]) {
        out.append(0x22)
        for byte in decoded {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(contentsOf: Array(RecordSplitters.hex(byte).utf8))
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        appendString(Array(text.utf8), to: &out)
    }

    /// `{"k1":v1,"k2":v2}` from members whose values are already canonical; sorts by key.
    static func object(_ members: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        let sorted = members.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (position, member) in sorted.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: member.value)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension JSONCursor {
    /// Reads any JSON value at the cursor and appends its canonical form to `out`.
    /// `depth` is the nesting depth of the enclosing container (0 for a field of the record), so the
    /// value's own object or array is depth 1. Deeper than `depthMax` fails `attributesTooDeep` at once,
    /// before any recursion, so a 10,000-deep value costs nothing.
    mutating func canonicalValue(
        into out: inout [UInt8], depth: Int, depthMax: Int, field: String
    ) throws(ScanFailure) {
        skipWhitespace()
        guard let byte = peek() else { throw failure("expected a value, found the end of the input", field: field) }
        switch byte {
        case 0x22:
            CanonicalJSON.appendString(try readString(field: field), to: &out)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth + 1 <= depthMax else {
                throw ScanFailure(
                    rule: .attributesTooDeep, offset: index, field: field,
                    detail: "nested deeper than attributesDepthMax (\(depthMax) levels)")
            }
            if byte == UInt8(ascii: "{") {
                try canonicalObject(into: &out, depth: depth + 1, depthMax: depthMax, field: field)
            } else {
                try canonicalArray(into: &out, depth: depth + 1, depthMax: depthMax, field: field)
            }
        case UInt8(ascii: "-"), 0x30...0x39:
            out.append(contentsOf: bytes[try scanNumber(field: field)])
        default:
            out.append(contentsOf: bytes[try scanLiteral(field: field)])
        }
    }

    private mutating func canonicalObject(
        into out: inout [UInt8], depth: Int, depthMax: Int, field: String
    ) throws(ScanFailure) {
        let objectStart = index
        index += 1
        var members: [(key: [UInt8], value: [UInt8])] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            return
        }
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { throw failure("trailing comma before }", field: field) }
            let key = try readKey(field: field)
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after the key", field: field)
            var value: [UInt8] = []
            let path = field + "." + String(decoding: key, as: UTF8.self)
            try canonicalValue(into: &value, depth: depth, depthMax: depthMax, field: path)
            members.append((key, value))
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in the object", field: field)
            break
        }
        let canonical = CanonicalJSON.object(members)
        try checkNoDuplicateKeys(members, objectStart: objectStart, field: field)
        out.append(contentsOf: canonical)
    }

    private func checkNoDuplicateKeys(
        _ members: [(key: [UInt8], value: [UInt8])], objectStart: Int, field: String
    ) throws(ScanFailure) {
        guard members.count > 1 else { return }
        let keys = members.map(\.key).sorted { $0.lexicographicallyPrecedes($1) }
        for position in 1..<keys.count where keys[position] == keys[position - 1] {
            let name = String(decoding: keys[position], as: UTF8.self)
            throw ScanFailure(
                rule: .duplicateKey, offset: objectStart, field: field + "." + name,
                detail: "key \"\(name)\" appears more than once")
        }
    }

    /// A member key: a quoted string, with a clear message for the common unquoted-key mistake.
    mutating func readKey(field: String?) throws(ScanFailure) -> [UInt8] {
        guard let byte = peek() else { throw failure("expected a key, found the end of the input", field: field) }
        guard byte == 0x22 else { throw failure("expected a quoted key, found \(describe(byte))", field: field) }
        return try readString(field: field)
    }

    private mutating func canonicalArray(
        into out: inout [UInt8], depth: Int, depthMax: Int, field: String
    ) throws(ScanFailure) {
        index += 1
        out.append(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            out.append(UInt8(ascii: "]"))
            return
        }
        var first = true
        while true {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { throw failure("trailing comma before ]", field: field) }
            try canonicalValue(into: &out, depth: depth, depthMax: depthMax, field: field)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in the array", field: field)
            break
        }
        out.append(UInt8(ascii: "]"))
    }
}
