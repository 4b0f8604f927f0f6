import Foundation
import Ledger

/// Both generations of the Revolut order object, read loosely (every field optional) so the mapping
/// below can name exactly what is missing. Unknown keys are ignored, as revolut.md 11 advises.
private struct OrderDTO {
    struct AmountDTO {
        let value: Int64
        let currency: String
    }

    let id: String?
    let type: String?
    let state: String?
    let created_at: String?
    let updated_at: String?
    let amount: Int64?
    let currency: String?
    let order_amount: AmountDTO?
    let merchant_order_reference: String?
    let merchant_order_ext_ref: String?
    let organisation_id: String?
    let package_id: String?
    let related_order_id: String?

    /// Reads one order object (already checked: strict JSON, no repeated key, whole amounts) off its
    /// bytes, field by field in the order above; `null` is an absent field. Read with the byte cursor,
    /// not JSONDecoder, which was a third of ingesting 100,000 orders.
    init(_ element: UnsafeBufferPointer<UInt8>) throws(OrderFieldProblem) {
        let top = try OrderObject(element, at: 0, path: "")
        id = try top.string("id")
        type = try top.string("type")
        state = try top.string("state")
        created_at = try top.string("created_at")
        updated_at = try top.string("updated_at")
        amount = try top.integer("amount")
        currency = try top.string("currency")
        if let amount = try top.object("order_amount") {
            guard let value = try amount.integer("value") else { throw try amount.absent("value", "a whole number") }
            guard let code = try amount.string("currency") else { throw try amount.absent("currency", "a string") }
            order_amount = AmountDTO(value: value, currency: code)
        } else {
            order_amount = nil
        }
        merchant_order_reference = try top.object("merchant_order_data")?.string("reference")
        merchant_order_ext_ref = try top.string("merchant_order_ext_ref")
        let metadata = try top.object("metadata")
        organisation_id = try metadata?.string("organisation_id")
        package_id = try metadata?.string("package_id")
        related_order_id = try top.string("related_order_id")
    }
}

/// Why an order object's fields could not be read: the field's dotted path and what was wrong.
private enum OrderFieldProblem: Error {
    case wrongType(field: String, expected: String)
    case missing(field: String)
}

/// One JSON object of an order: its members' value ranges by key, read on demand by type.
private struct OrderObject {
    let bytes: UnsafeBufferPointer<UInt8>
    let path: String
    private var members: [String: Int] = [:]

    init(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, path: String) throws(OrderFieldProblem) {
        self.bytes = bytes
        self.path = path
        var cursor = JSONCursor(bytes: bytes)
        cursor.index = start
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{") else {
            throw .wrongType(field: path.isEmpty ? "" : String(path.dropLast()), expected: "an object")
        }
        cursor.index += 1
        do throws(ScanFailure) {
            while true {
                cursor.skipWhitespace()
                if cursor.peek() == UInt8(ascii: "}") { return }
                let key = String(decoding: try cursor.readKey(field: nil), as: UTF8.self)
                cursor.skipWhitespace()
                try cursor.expect(UInt8(ascii: ":"), "':'")
                cursor.skipWhitespace()
                members[key] = cursor.index
                try cursor.skipValue(depth: 1, depthMax: RevolutJSONOrders.depthMax)
                cursor.skipWhitespace()
                if cursor.peek() == UInt8(ascii: ",") { cursor.index += 1 }
            }
        } catch {
            preconditionFailure("an order object is checked strictly before it is read: \(error.detail)")
        }
    }

    /// The cursor at `key`'s value, nil when the key is absent or its value is `null`.
    private func value(_ key: String) -> JSONCursor? {
        guard let start = members[key] else { return nil }
        var cursor = JSONCursor(bytes: bytes)
        cursor.index = start
        if bytes[start] == UInt8(ascii: "n") { return nil }
        return cursor
    }

    func string(_ key: String) throws(OrderFieldProblem) -> String? {
        guard var cursor = value(key) else { return nil }
        guard cursor.peek() == 0x22, let text = try? cursor.readString() else {
            throw .wrongType(field: path + key, expected: "a string")
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A whole number (`RevolutJSONOrders.checkWholeAmounts` refused fractions and overflow first).
    func integer(_ key: String) throws(OrderFieldProblem) -> Int64? {
        guard var cursor = value(key) else { return nil }
        guard let byte = cursor.peek(), byte == UInt8(ascii: "-") || JSONBytes.isDigit(byte),
              let literal = try? cursor.scanNumber(), let number = Int64(String(decoding: bytes[literal], as: UTF8.self))
        else { throw .wrongType(field: path + key, expected: "a whole number") }
        return number
    }

    func object(_ key: String) throws(OrderFieldProblem) -> OrderObject? {
        guard let cursor = value(key) else { return nil }
        return try OrderObject(bytes, at: cursor.index, path: path + key + ".")
    }

    /// A required member is absent (missing) or `null` (wrong type, as JSONDecoder said it).
    func absent(_ key: String, _ expected: String) throws(OrderFieldProblem) -> OrderFieldProblem {
        members[key] == nil ? .missing(field: path + key) : .wrongType(field: path + key, expected: expected)
    }
}

/// Reads the JSON order exports: `{"orders": [...]}`, a bare array, or JSON Lines of orders. Elements
/// are located with the byte cursor (so each order gets its line number) and read with it (`OrderDTO`).
struct RevolutJSONOrders {
    let displayName: String
    let bytes: [UInt8]
    private let lineStarts: [Int]
    static let depthMax = 64

    init(displayName: String, bytes: [UInt8]) {
        self.displayName = displayName
        self.bytes = bytes
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == 0x0A { starts.append(offset + 1) }
        self.lineStarts = starts
    }

    func line(ofOffset offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    /// Finds the order elements: their byte ranges, and the format. Nil elements mean JSON Lines: the
    /// caller takes one order per line, so a damaged line costs that line only.
    func locate(start: Int) throws(InputError) -> (RevolutOrderFileFormat, [Range<Int>]?) {
        do throws(ScanFailure) {
            return try bytes.withUnsafeBufferPointer { buffer throws(ScanFailure) in
                var cursor = JSONCursor(bytes: buffer)
                cursor.index = start
                if buffer[start] == UInt8(ascii: "[") {
                    let elements = try arrayElements(&cursor)
                    try expectEnd(&cursor)
                    return (.apiArray, elements)
                }
                switch try ordersList(&cursor) {
                case .list(let elements):
                    try expectEnd(&cursor)
                    return (.apiList, elements)
                case .single(let element): return (.jsonLines, [element])
                case .lines: return (.jsonLines, nil)
                }
            }
        } catch {
            throw .fileRejected(Rejection(
                error.rule, file: displayName, line: line(ofOffset: error.offset), field: error.field,
                detail: error.detail))
        }
    }

    private func arrayElements(_ cursor: inout JSONCursor) throws(ScanFailure) -> [Range<Int>] {
        try cursor.expect(UInt8(ascii: "["), "'['")
        var elements: [Range<Int>] = []
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: "]") { cursor.index += 1; return [] }
        while true {
            cursor.skipWhitespace()
            let start = cursor.index
            try cursor.skipValue(depth: 1, depthMax: Self.depthMax)
            elements.append(start..<cursor.index)
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: ",") { cursor.index += 1; continue }
            try cursor.expect(UInt8(ascii: "]"), "',' or ']' between orders")
            return elements
        }
    }

    enum ObjectLayout {
        case list([Range<Int>])
        case single(Range<Int>)
        case lines
    }

    /// `{"orders": [...]}` is a list; one object filling the file is a single order; else JSON Lines.
    private func ordersList(_ cursor: inout JSONCursor) throws(ScanFailure) -> ObjectLayout {
        let objectStart = cursor.index
        var probe = cursor
        do throws(ScanFailure) {
            try probe.skipValue(depth: 0, depthMax: Self.depthMax)
        } catch {
            // A damaged first line of JSON Lines is one bad record; a damaged document is a bad file.
            if earlyLineIsOneValue(from: objectStart) { return .lines }
            throw error
        }
        var rest = probe
        rest.skipWhitespace()
        if !rest.atEnd { return .lines }
        cursor.index = objectStart + 1
        var found: [Range<Int>]?
        var keys: Set<[UInt8]> = []
        cursor.skipWhitespace()
        while cursor.peek() != UInt8(ascii: "}") {
            cursor.skipWhitespace()
            let keyOffset = cursor.index
            let key = try cursor.readKey(field: nil)
            // `{"orders": [A], "orders": []}` must not quietly keep one of the two lists.
            guard keys.insert(key).inserted else {
                let name = String(decoding: key, as: UTF8.self)
                throw ScanFailure.duplicateKey(name, offset: keyOffset, field: name)
            }
            cursor.skipWhitespace()
            try cursor.expect(UInt8(ascii: ":"), "':'")
            cursor.skipWhitespace()
            if key == Array("orders".utf8), cursor.peek() == UInt8(ascii: "[") {
                found = try arrayElements(&cursor)
            } else {
                try cursor.skipValue(depth: 1, depthMax: Self.depthMax)
            }
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: ",") { cursor.index += 1 }
        }
        cursor.index += 1
        return found.map { .list($0) } ?? .single(objectStart..<cursor.index)
    }

    /// True when one of the first lines holds exactly one JSON value by itself: the file is JSON Lines
    /// with a damaged record, not a damaged document (pretty-printed lines are never whole values).
    private func earlyLineIsOneValue(from start: Int) -> Bool {
        var lineStart = start
        for _ in 0..<Self.sniffLines where lineStart < bytes.count {
            let end = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            let whole = bytes[lineStart..<end].withUnsafeBufferPointer { line in
                var cursor = JSONCursor(bytes: line)
                cursor.skipWhitespace()
                guard cursor.peek() == UInt8(ascii: "{") else { return false }
                do throws(ScanFailure) {
                    try cursor.skipValue(depth: 0, depthMax: Self.depthMax)
                } catch {
                    return false
                }
                cursor.skipWhitespace()
                return cursor.atEnd
            }
            if whole { return true }
            lineStart = end + 1
        }
        return false
    }

    static let sniffLines = 5

    private func expectEnd(_ cursor: inout JSONCursor) throws(ScanFailure) {
        cursor.skipWhitespace()
        if !cursor.atEnd { throw cursor.failure("unexpected content after the end of the JSON value") }
    }

    /// Reads one element into an observation or a rejection naming the line and field.
    func order(in range: Range<Int>, line: Int) -> RevolutOrderOutcome {
        let raw = Array(bytes[range])
        do {
            try checkStrictly(range, raw: raw)
            try checkWholeAmounts(range, line: line, raw: raw)
            let dto = try raw.withUnsafeBufferPointer { element throws(OrderFieldProblem) in try OrderDTO(element) }
            return try map(dto, line: line, raw: raw)
        } catch let rejection as Rejection {
            return .rejected(rejection)
        } catch let problem as OrderFieldProblem {
            return .rejected(rejectionFor(problem, line: line, raw: raw))
        } catch {
            return .rejected(Rejection(.malformedJSON, file: displayName, line: line, detail: "\(error)", raw: raw))
        }
    }

    /// Refuses what JSONDecoder would let through, by the rule cost events follow
    /// (`JSONCursor.checkStrictly`): a key given twice at any depth (JSONDecoder keeps one of them),
    /// raw control characters inside strings, and the rest of strict RFC 8259.
    private func checkStrictly(_ range: Range<Int>, raw: [UInt8]) throws(Rejection) {
        let failure: ScanFailure? = bytes[range].withUnsafeBufferPointer { element in
            var cursor = JSONCursor(bytes: element)
            do throws(ScanFailure) {
                try cursor.checkStrictly(depthMax: Self.depthMax)
                return nil
            } catch {
                return error
            }
        }
        guard let failure else { return }
        // The depth limit's rule is named for cost-event attributes; an order has none.
        let rule = failure.rule == .attributesTooDeep ? .malformedJSON : failure.rule
        throw Rejection(
            rule, file: displayName, line: line(ofOffset: range.lowerBound + failure.offset), field: failure.field,
            detail: failure.detail, raw: raw)
    }

    struct AmountProblem {
        var field: String
        var literal: String
        var rule: RejectionRule
    }

    /// JSONDecoder reads `450.00` into an Int64 as 450; minor units must be written as whole numbers,
    /// so `amount` and `order_amount.value` are checked on the raw text first.
    private func checkWholeAmounts(_ range: Range<Int>, line: Int, raw: [UInt8]) throws {
        let problem: AmountProblem? = bytes[range].withUnsafeBufferPointer { element in
            var cursor = JSONCursor(bytes: element)
            return try? Self.firstFractionalAmount(&cursor, path: "", depth: 0)
        } ?? nil
        if let problem {
            throw Rejection(
                problem.rule, file: displayName, line: line, field: problem.field,
                detail: problem.rule == .amountOutOfRange
                    ? "\(problem.literal) minor units does not fit in 64 bits"
                    : "\(problem.literal) is not a whole number of minor units",
                raw: raw)
        }
    }

    /// Walks the order object (and `order_amount`) for an amount with a fraction, exponent or overflow.
    private static func firstFractionalAmount(
        _ cursor: inout JSONCursor, path: String, depth: Int
    ) throws(ScanFailure) -> AmountProblem? {
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{") else { return nil }
        cursor.index += 1
        while true {
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: "}") { return nil }
            let key = String(decoding: try cursor.readKey(field: nil), as: UTF8.self)
            cursor.skipWhitespace()
            try cursor.expect(UInt8(ascii: ":"), "':'")
            cursor.skipWhitespace()
            let field = path + key
            let isAmount = (depth == 0 && key == "amount") || (depth == 1 && key == "value")
            if depth == 0, key == "order_amount", cursor.peek() == UInt8(ascii: "{") {
                if let found = try firstFractionalAmount(&cursor, path: "order_amount.", depth: 1) { return found }
            } else if isAmount, let byte = cursor.peek(), byte == UInt8(ascii: "-") || JSONBytes.isDigit(byte) {
                let literal = cursor.bytes[try cursor.scanNumber()]
                let text = String(decoding: literal, as: UTF8.self)
                if literal.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
                    return AmountProblem(field: field, literal: text, rule: .fieldWrongType)
                }
                if Int64(text) == nil { return AmountProblem(field: field, literal: text, rule: .amountOutOfRange) }
            } else {
                try cursor.skipValue(depth: depth + 1, depthMax: depthMax)
            }
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: ",") { cursor.index += 1 } else { return nil }
        }
    }

    private func map(_ dto: OrderDTO, line: Int, raw: [UInt8]) throws -> RevolutOrderOutcome {
        func missing(_ field: String) -> Rejection {
            Rejection(
                .fieldMissing, file: displayName, line: line, field: field, detail: "required field is missing",
                raw: raw)
        }
        guard let id = dto.id, !id.isEmpty else { throw missing("id") }
        guard let type = dto.type else { throw missing("type") }
        guard let state = dto.state else { throw missing("state") }
        let legacy = dto.order_amount != nil
        let minor: Int64
        let code: String
        if let amount = dto.order_amount {
            (minor, code) = (amount.value, amount.currency)
        } else {
            guard let amount = dto.amount else { throw missing("amount") }
            guard let currency = dto.currency else { throw missing("currency") }
            (minor, code) = (amount, currency)
        }
        let currencyField = legacy ? "order_amount.currency" : "currency"
        guard let currency = Currency(code: code) else {
            throw Rejection(
                .currencyMustBeISO4217, file: displayName, line: line, field: currencyField,
                detail: "\"\(code)\" is not an active upper-case ISO 4217 code", raw: raw)
        }
        let position = SourcePosition(file: displayName, line: line)
        let times = TimestampFields(file: displayName, line: line, raw: raw)
        return .order(RevolutOrderObservation(
            orderID: id, type: .init(normalising: type), state: .init(normalising: state),
            amount: Money(minorUnits: minor, currency: currency),
            merchantReference: dto.merchant_order_reference ?? dto.merchant_order_ext_ref,
            organisationID: dto.organisation_id, packageID: dto.package_id,
            relatedOrderID: dto.related_order_id,
            createdAt: try times.instant(dto.created_at, field: "created_at"),
            updatedAt: try times.instant(dto.updated_at, field: "updated_at"),
            format: legacy ? .apiLegacy : .apiCurrent, source: position))
    }

    private func rejectionFor(_ problem: OrderFieldProblem, line: Int, raw: [UInt8]) -> Rejection {
        switch problem {
        case .wrongType(let field, let expected):
            Rejection(.fieldWrongType, file: displayName, line: line, field: field, detail: "expected \(expected)", raw: raw)
        case .missing(let field):
            Rejection(.fieldMissing, file: displayName, line: line, field: field, detail: "required field is missing", raw: raw)
        }
    }
}

extension Rejection: Error {}

/// Optional timestamps of an order: absent or empty is nil, present must be valid ISO 8601.
struct TimestampFields {
    let file: String
    let line: Int
    let raw: [UInt8]

    func instant(_ text: String?, field: String) throws(Rejection) -> Instant? {
        guard let text, !text.isEmpty else { return nil }
        let rule: RejectionRule
        switch Instant.parse(text) {
        case .success(let instant): return instant
        case .failure(.missingOffset): rule = .timestampMissingOffset
        case .failure(.impossibleDate): rule = .timestampImpossible
        case .failure(.outOfRange): rule = .timestampOutOfRange
        case .failure(.malformed): rule = .timestampMalformed
        }
        let reason = Instant.parse(text).failureDescription
        throw Rejection(rule, file: file, line: line, field: field, detail: "\"\(text)\": \(reason)", raw: raw)
    }
}

extension Result where Failure: CustomStringConvertible {
    var failureDescription: String {
        if case .failure(let error) = self { return error.description }
        return ""
    }
}
