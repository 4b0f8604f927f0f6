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
        appendString(decoded[...], to: &out)
    }

    static func appendString(_ decoded: ArraySlice<UInt8>, to out: inout [UInt8]) {
        decoded.withUnsafeBufferPointer { appendString($0, to: &out) }
    }

    static func appendString(_ decoded: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(0x22)
        // Most strings (ids, timestamps) need no escape: copy them whole.
        let needsEscape = decoded.contains { byte in byte < 0x20 || byte == 0x22 || byte == 0x5C }
        if !needsEscape {
            out.append(contentsOf: decoded)
            out.append(0x22)
            return
        }
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
        var out: [UInt8] = []
        appendObject(sortedMembers: members.sorted { $0.key.lexicographicallyPrecedes($1.key) }, to: &out)
        return out
    }

    /// Appends `{"k1":v1,...}` for members already sorted by key.
    static func appendObject(sortedMembers: [(key: [UInt8], value: [UInt8])], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (position, member) in sortedMembers.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: member.value)
        }
        out.append(UInt8(ascii: "}"))
    }
}

extension ScanFailure {
    /// A failure inside the value of member `key` of the object at `field`, which was read with the
    /// object's own path: the member's path (`field.key`) is only spelled out here, on failure,
    /// rather than built as a String for every member of every record.
    func nested(in field: String, key: [UInt8]) -> ScanFailure {
        var nested = self
        // The failure's own path below `field`: `.reference` under `attributes`, or `reference`
        // under the record itself, which needs its dot back.
        var inner = self.field.map { $0.hasPrefix(field) ? String($0.dropFirst(field.count)) : "" } ?? ""
        if field.isEmpty, !inner.isEmpty { inner = "." + inner }
        nested.field = Self.path(field, String(decoding: key, as: UTF8.self)) + inner
        return nested
    }

    /// `field.key`, or `key` alone for a member of the record itself (`field` empty).
    static func path(_ field: String, _ key: String) -> String {
        field.isEmpty ? key : field + "." + key
    }

    /// The one duplicate-key rule of every reader of outside JSON (cost events at any depth, order
    /// exports, their wrapper object): a key given twice is refused, never first-wins or last-wins.
    static func duplicateKey(_ name: String, offset: Int, field: String) -> ScanFailure {
        ScanFailure(rule: .duplicateKey, offset: offset, field: field, detail: "key \"\(name)\" appears more than once")
    }
}

extension JSONCursor {
    /// Checks one whole JSON value by the rules cost events are read with: strict RFC 8259 (no raw
    /// control characters in strings, no lone surrogates, no `NaN`, no trailing commas, ...) and no
    /// key twice in any object at any depth. Order exports run it on each order before decoding, so
    /// the two readers cannot disagree on what a valid object is. The canonical form is built and
    /// dropped; an order is small. `field` is the path of the value (empty for a whole record).
    mutating func checkStrictly(depthMax: Int, field: String = "") throws(ScanFailure) {
        var scratch: [UInt8] = []
        try canonicalValue(into: &scratch, depth: 0, depthMax: depthMax, field: field)
        skipWhitespace()
        if !atEnd { throw failure("unexpected content after the end of the JSON value") }
    }
}

/// Writes one canonical object straight into a byte buffer, for a record whose known members come
/// in a fixed order: the caller adds them in ascending key order, and the unknown members (`extras`,
/// any order) are merged in at their sorted places. The bytes equal `CanonicalJSON.object` over all
/// members, without building a member list or sorting it per record (a test pins the equality).
struct CanonicalObjectWriter {
    private(set) var bytes: [UInt8] = []
    private let extras: [(key: [UInt8], value: [UInt8])]
    private var nextExtra = 0
    private var first = true

    init(extras: [(key: [UInt8], value: [UInt8])], capacity: Int) {
        self.extras = extras.count > 1 ? extras.sorted { $0.key.lexicographicallyPrecedes($1.key) } : extras
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Adds a member whose value the caller writes canonically into the buffer. Keys must ascend.
    mutating func member(_ key: [UInt8], value write: (inout [UInt8]) -> Void) {
        writeExtras(before: key)
        writeKey(key)
        write(&bytes)
    }

    /// Adds a member whose value is a string, written with the canonical escapes.
    mutating func member(_ key: [UInt8], string: ArraySlice<UInt8>) {
        member(key) { CanonicalJSON.appendString(string, to: &$0) }
    }

    /// Writes the remaining extras and the closing brace.
    mutating func finish() -> [UInt8] {
        while nextExtra < extras.count { writeExtra() }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func writeExtras(before key: [UInt8]) {
        while nextExtra < extras.count, extras[nextExtra].key.lexicographicallyPrecedes(key) { writeExtra() }
    }

    private mutating func writeExtra() {
        let extra = extras[nextExtra]
        nextExtra += 1
        writeKey(extra.key)
        bytes.append(contentsOf: extra.value)
    }

    private mutating func writeKey(_ key: [UInt8]) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        CanonicalJSON.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
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
            var decoded: [UInt8] = []
            if let range = try readStringRange(field: field, decoded: &decoded) {
                CanonicalJSON.appendString(UnsafeBufferPointer(rebasing: bytes[range]), to: &out)
            } else {
                CanonicalJSON.appendString(decoded[...], to: &out)
            }
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
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            return
        }
        // Every member's decoded key and canonical value, end to end in one buffer, with the
        // members as ranges into it: this runs for every record's attributes, and an array per key
        // and per value cost more than the scanning.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        var members: [CanonicalMember] = []
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { throw failure("trailing comma before }", field: field) }
            let keyStart = buffer.count
            try readKey(appendingTo: &buffer, field: field)
            let keyEnd = buffer.count
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after the key", field: field)
            do {
                try canonicalValue(into: &buffer, depth: depth, depthMax: depthMax, field: field)
            } catch {
                throw error.nested(in: field, key: Array(buffer[keyStart..<keyEnd]))
            }
            members.append(CanonicalMember(keyStart: keyStart, keyEnd: keyEnd, valueEnd: buffer.count))
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in the object", field: field)
            break
        }
        buffer.withUnsafeBufferPointer { buffer in
            // Sorted in place, so a repeated key sits next to its twin.
            members.sort { $0.key(in: buffer).lexicographicallyPrecedes($1.key(in: buffer)) }
        }
        try checkNoDuplicateKeys(sortedMembers: members, in: buffer, objectStart: objectStart, field: field)
        out.append(UInt8(ascii: "{"))
        for (position, member) in members.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(buffer[member.keyStart..<member.keyEnd], to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: buffer[member.keyEnd..<member.valueEnd])
        }
        out.append(UInt8(ascii: "}"))
    }

    private func checkNoDuplicateKeys(
        sortedMembers members: [CanonicalMember], in buffer: [UInt8], objectStart: Int, field: String
    ) throws(ScanFailure) {
        guard members.count > 1 else { return }
        for position in 1..<members.count {
            let key = buffer[members[position].keyStart..<members[position].keyEnd]
            guard key.elementsEqual(buffer[members[position - 1].keyStart..<members[position - 1].keyEnd]) else {
                continue
            }
            let name = String(decoding: key, as: UTF8.self)
            throw ScanFailure.duplicateKey(name, offset: objectStart, field: ScanFailure.path(field, name))
        }
    }

    /// A member key appended decoded to `out`, with a clear message for an unquoted key.
    private mutating func readKey(appendingTo out: inout [UInt8], field: String?) throws(ScanFailure) {
        guard let byte = peek() else { throw failure("expected a key, found the end of the input", field: field) }
        guard byte == 0x22 else { throw failure("expected a quoted key, found \(describe(byte))", field: field) }
        try appendDecodedString(to: &out, field: field)
    }

    /// A member key: a quoted string, with a clear message for the common unquoted-key mistake.
    mutating func readKey(field: String?) throws(ScanFailure) -> [UInt8] {
        guard let byte = peek() else { throw failure("expected a key, found the end of the input", field: field) }
        guard byte == 0x22 else { throw failure("expected a quoted key, found \(describe(byte))", field: field) }
        return try readString(field: field)
    }

    /// `readKey` without allocating for a key that has no escapes (see `readStringRange`).
    mutating func readKeyRange(field: String?, decoded: inout [UInt8]) throws(ScanFailure) -> Range<Int>? {
        guard let byte = peek() else { throw failure("expected a key, found the end of the input", field: field) }
        guard byte == 0x22 else { throw failure("expected a quoted key, found \(describe(byte))", field: field) }
        return try readStringRange(field: field, decoded: &decoded)
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

/// One member of an object being canonicalised: its decoded key and canonical value, end to end in
/// the object's buffer.
private struct CanonicalMember {
    let keyStart: Int
    let keyEnd: Int
    let valueEnd: Int

    func key(in buffer: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>> {
        buffer[keyStart..<keyEnd]
    }
}
