import Foundation
import Ledger

/// The stored form of a plan item: a JSON array of its fields in one fixed order, amounts as
/// integers (micro-credits, minor units, milliseconds since the epoch), absent fields as `null`.
/// For example:
///
///     ["plan-item/2","deduction","deduction:cost-event:ev-1","met-police",1764201600000,1500000,
///      null,null,null,null,3,0,null,null,null,null,null,null,null,null,false,"ev-1",null,null,
///      "analysis","op-urgent","llm.completion",null]
///
/// Why not keyed JSON through `JSONEncoder`: a nightly plan holds a million items, and encoding
/// and decoding them through Foundation cost more than posting them. A flat array is written and
/// read here in one pass, stays readable in the database, and is canonical (one item, one text),
/// so the plan digest is taken over the stored text itself. Plans stored by an earlier version
/// as keyed JSON objects are still read.
enum PlanItemPayload {
    static let format = "plan-item/2"

    static func encode(_ item: PlanItem) -> String {
        var out = FlatJSONArrayWriter()
        write(item, to: &out)
        return out.finish()
    }

    /// Writes the item's fields into `out`, which then holds its payload but for the closing bracket
    /// (`FlatJSONArrayWriter.finish`, or `PlanDigest`, which hashes the bytes without making a text).
    static func write(_ item: PlanItem, to out: inout FlatJSONArrayWriter) {
        out.string(format)
        out.string(item.kind.rawValue)
        out.string(item.idempotencyKey)
        out.string(item.organisationID)
        out.integer(item.effectiveAt.millisecondsSinceEpoch)
        out.integer(item.credits?.microcredits)
        out.integer(item.price?.minorUnits)
        out.string(item.price?.currency.code)
        out.integer(item.expiresAt?.millisecondsSinceEpoch)
        out.string(item.grantKey)
        out.integer(item.priorityRank.map(Int64.init))
        out.integer(item.overdraftLimit?.microcredits)
        out.string(item.order?.orderID)
        out.string(item.order?.organisationID)
        out.string(item.order?.packageID)
        out.integer(item.order?.credits.microcredits)
        out.integer(item.order?.price.minorUnits)
        out.string(item.order?.price.currency.code)
        out.integer(item.order?.completedAt.millisecondsSinceEpoch)
        out.integer(item.order?.expiresAt?.millisecondsSinceEpoch)
        out.bool(item.carriedOver ?? false)
        let references = item.references
        out.string(references.costEventID)
        out.string(references.revolutOrderID)
        out.string(references.planPeriod)
        out.string(references.team)
        out.string(references.investigation)
        out.string(references.operation)
        out.string(references.memo)
    }

    static func decode(_ payload: String) throws -> PlanItem {
        if payload.hasPrefix("{") { return try JSONDecoder().decode(PlanItem.self, from: Data(payload.utf8)) }
        var input = try FlatJSONArrayReader(payload)
        guard try input.string() == format else { throw FlatJSONArrayReader.Malformed() }
        guard let kind = PlanItem.Kind(rawValue: try input.requiredString()) else { throw FlatJSONArrayReader.Malformed() }
        let key = try input.requiredString()
        let organisationID = try input.requiredString()
        let effectiveAt = Instant(millisecondsSinceEpoch: try input.requiredInteger())
        let credits = try input.integer().map(Credits.init(microcredits:))
        let price = try money(try input.integer(), try input.string())
        let expiresAt = try input.integer().map(Instant.init(millisecondsSinceEpoch:))
        let grantKey = try input.string()
        let priorityRank = try input.integer().map { Int($0) }
        let overdraftLimit = try input.integer().map(Credits.init(microcredits:))
        let order = try completedOrder(&input)
        let carriedOver = try input.bool()
        let references = TransferReferences(
            costEventID: try input.string(), revolutOrderID: try input.string(), planPeriod: try input.string(),
            team: try input.string(), investigation: try input.string(), operation: try input.string(),
            memo: try input.string())
        try input.end()
        return PlanItem(
            kind: kind, idempotencyKey: key, organisationID: organisationID, effectiveAt: effectiveAt, credits: credits,
            price: price, expiresAt: expiresAt, grantKey: grantKey, priorityRank: priorityRank,
            overdraftLimit: overdraftLimit, order: order, carriedOver: carriedOver == true ? true : nil,
            references: references)
    }

    private static func money(_ minorUnits: Int64?, _ code: String?) throws -> Money? {
        switch (minorUnits, code) {
        case (nil, nil): return nil
        case (let minorUnits?, let code?):
            guard let currency = Currency(code: code) else { throw FlatJSONArrayReader.Malformed() }
            return Money(minorUnits: minorUnits, currency: currency)
        default: throw FlatJSONArrayReader.Malformed()
        }
    }

    private static func completedOrder(_ input: inout FlatJSONArrayReader) throws -> CompletedOrder? {
        let orderID = try input.string()
        let organisationID = try input.string()
        let packageID = try input.string()
        let credits = try input.integer()
        let price = try money(try input.integer(), try input.string())
        let completedAt = try input.integer()
        let expiresAt = try input.integer()
        guard let orderID else { return nil }
        guard let organisationID, let packageID, let credits, let price, let completedAt else {
            throw FlatJSONArrayReader.Malformed()
        }
        return CompletedOrder(
            orderID: orderID, organisationID: organisationID, packageID: packageID,
            credits: Credits(microcredits: credits), price: price,
            completedAt: Instant(millisecondsSinceEpoch: completedAt),
            expiresAt: expiresAt.map(Instant.init(millisecondsSinceEpoch:)))
    }
}

/// Writes a JSON array of strings, integers, booleans and nulls, with no whitespace.
struct FlatJSONArrayWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "[")]

    /// Empties the array, keeping its storage: a writer reused for every item of a night allocates once.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(UInt8(ascii: "["))
    }

    mutating func string(_ value: String?) {
        separate()
        guard let value else { return null() }
        bytes.append(UInt8(ascii: "\""))
        // Most fields need no escape: copied at once, from the string's own bytes.
        var text = value
        let plain = text.withUTF8 { utf8 in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func integer(_ value: Int64?) {
        separate()
        guard let value else { return null() }
        // Decimal digits written in place, most significant first (no text made per number).
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    func finish() -> String {
        String(decoding: bytes + [UInt8(ascii: "]")], as: UTF8.self)
    }

    /// Closes the array and hands its bytes (exactly `finish()`'s text) to `body`.
    mutating func withFinishedBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        bytes.append(UInt8(ascii: "]"))
        return try bytes.withUnsafeBytes(body)
    }

    private mutating func null() { bytes.append(contentsOf: "null".utf8) }

    private mutating func separate() {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
    }
}

/// Reads what `FlatJSONArrayWriter` writes (any valid JSON array of strings, integers, booleans
/// and nulls without whitespace), one element at a time, in order.
struct FlatJSONArrayReader {
    /// The text is not such an array, or an element is not of the type asked for.
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var position = 1
    private var elements = 0

    init(_ text: String) throws {
        bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"), bytes.count >= 2 else { throw Malformed() }
    }

    mutating func string() throws -> String? {
        try separator()
        if try null() { return nil }
        guard next() == UInt8(ascii: "\"") else { throw Malformed() }
        var text: [UInt8] = []
        while true {
            guard let byte = next() else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"): try unescape(into: &text)
            case 0..<0x20: throw Malformed()
            default: text.append(byte)
            }
        }
    }

    mutating func requiredString() throws -> String {
        guard let value = try string() else { throw Malformed() }
        return value
    }

    mutating func integer() throws -> Int64? {
        try separator()
        if try null() { return nil }
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        guard let value = Int64(String(decoding: bytes[start..<position], as: UTF8.self)) else { throw Malformed() }
        return value
    }

    mutating func requiredInteger() throws -> Int64 {
        guard let value = try integer() else { throw Malformed() }
        return value
    }

    mutating func bool() throws -> Bool? {
        try separator()
        if try null() { return nil }
        if literal("true") { return true }
        if literal("false") { return false }
        throw Malformed()
    }

    /// The array must end here.
    func end() throws {
        guard position == bytes.count - 1 else { throw Malformed() }
    }

    private mutating func separator() throws {
        if elements > 0 { guard next() == UInt8(ascii: ",") else { throw Malformed() } }
        elements += 1
        guard position < bytes.count - 1 else { throw Malformed() }
    }

    private mutating func null() throws -> Bool { literal("null") }

    private mutating func literal(_ word: StaticString) -> Bool {
        let length = word.utf8CodeUnitCount
        guard position + length <= bytes.count else { return false }
        for offset in 0..<length where bytes[position + offset] != word.utf8Start[offset] { return false }
        position += length
        return true
    }

    private mutating func unescape(into text: inout [UInt8]) throws {
        guard let escaped = next() else { throw Malformed() }
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw Malformed() }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
            text.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw Malformed()
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next(), let digit = Self.hexDigit(byte) else { throw Malformed() }
            value = value << 4 | digit
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func next() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }
}
