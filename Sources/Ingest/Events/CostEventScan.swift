/// The top-level fields of one cost-event object, located but not yet validated.
struct ScannedEvent {
    struct Text {
        /// The decoded string: a slice of the record itself when it had no escapes (no copy).
        var bytes: ArraySlice<UInt8>
        var offset: Int
    }

    /// `credits` or `quantity`: the number's text (or the string's content) and where it was.
    struct Numeric {
        var bytes: [UInt8]
        var offset: Int
        var wasString: Bool
    }

    /// The string fields, indexed by `EventField.ordinal` (an array, not a dictionary: this runs per record).
    var texts = FieldTexts()
    var credits: Numeric?
    var quantity: Numeric?
    var attributesRaw: Range<Int>?
    var attributesCanonical: [UInt8]?
    var attributesOffset = 0
    var extras: [(key: [UInt8], value: [UInt8])] = []
}

/// Per-field storage without hashing or a heap array: one stored slot per string `EventField`.
struct FieldTexts {
    private var eventID, organisationID, team, investigation, operation, unit, occurredAt: ScannedEvent.Text?

    subscript(field: EventField) -> ScannedEvent.Text? {
        get {
            switch field {
            case .eventID: eventID
            case .organisationID: organisationID
            case .team: team
            case .investigation: investigation
            case .operation: operation
            case .unit: unit
            case .occurredAt: occurredAt
            case .credits, .quantity, .attributes: nil
            }
        }
        set {
            switch field {
            case .eventID: eventID = newValue
            case .organisationID: organisationID = newValue
            case .team: team = newValue
            case .investigation: investigation = newValue
            case .operation: operation = newValue
            case .unit: unit = newValue
            case .occurredAt: occurredAt = newValue
            case .credits, .quantity, .attributes: preconditionFailure("\(field) is not a string field")
            }
        }
    }
}

/// The fields the scanner knows; everything else is an extra, kept as canonical JSON.
enum EventField: String, CaseIterable {
    case eventID = "event_id"
    case organisationID = "organisation_id"
    case team
    case investigation
    case operation
    case credits
    case quantity
    case unit
    case occurredAt = "occurred_at"
    case attributes

    static let byKeyBytes: [(bytes: [UInt8], field: EventField)] = allCases.map { (Array($0.rawValue.utf8), $0) }

    /// Position in `allCases`, for array slots and the seen-keys bit mask.
    var ordinal: Int {
        switch self {
        case .eventID: 0
        case .organisationID: 1
        case .team: 2
        case .investigation: 3
        case .operation: 4
        case .credits: 5
        case .quantity: 6
        case .unit: 7
        case .occurredAt: 8
        case .attributes: 9
        }
    }

    static func lookup(_ key: [UInt8]) -> EventField? {
        key.withUnsafeBufferPointer { lookup($0[...]) }
    }

    /// The field named by raw key bytes in a record (no escapes), without copying them.
    static func lookup(_ key: Slice<UnsafeBufferPointer<UInt8>>) -> EventField? {
        for entry in byKeyBytes where entry.bytes.count == key.count && entry.bytes.elementsEqual(key) {
            return entry.field
        }
        return nil
    }

    /// The fields every event must have, in the order their absence is reported.
    static let required: [EventField] = [.eventID, .organisationID, .team, .operation, .occurredAt]

    /// The identifier fields, in the order they are validated.
    static let identifiers: [EventField] = [.eventID, .organisationID, .team, .investigation, .operation, .unit]
}

/// Pass one of the cost-event scanner: walks the object once, strictly, recording where each known
/// field is and canonicalising attributes and unknown fields. Any structural error stops the scan.
struct CostEventScanner {
    let limits: IngestLimits
    /// The record being scanned, whose storage `scan`'s buffer points into: string fields without
    /// escapes are kept as slices of it instead of copies.
    let record: [UInt8]

    func scan(_ buffer: UnsafeBufferPointer<UInt8>) throws(ScanFailure) -> ScannedEvent {
        precondition(buffer.count == record.count, "the buffer is the record's own storage")
        var cursor = JSONCursor(bytes: buffer)
        var event = ScannedEvent()
        var seen: UInt32 = 0
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{") else {
            let found = cursor.peek().map(JSONBytes.typeName(startingWith:)) ?? "nothing"
            throw cursor.failure("expected a JSON object, found \(found)")
        }
        cursor.index += 1
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: "}") {
            cursor.index += 1
        } else {
            try scanMembers(&cursor, into: &event, seenKnown: &seen)
        }
        cursor.skipWhitespace()
        if !cursor.atEnd {
            throw cursor.failure("unexpected content after the object (two objects on one line?)")
        }
        return event
    }

    private func scanMembers(
        _ cursor: inout JSONCursor, into event: inout ScannedEvent, seenKnown: inout UInt32
    ) throws(ScanFailure) {
        while true {
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: "}") { throw cursor.failure("trailing comma before }") }
            let keyOffset = cursor.index
            // Known keys are matched in place; only an unknown key is copied (it is kept as an extra).
            var escapedKey: [UInt8] = []
            let keyRange = try cursor.readKeyRange(field: nil, decoded: &escapedKey)
            let field = keyRange.map { EventField.lookup(cursor.bytes[$0]) } ?? EventField.lookup(escapedKey)
            let key = field != nil ? [] : keyRange.map { Array(cursor.bytes[$0]) } ?? escapedKey
            let name = field?.rawValue ?? String(decoding: key, as: UTF8.self)
            guard firstSighting(key, field, seenKnown: &seenKnown, extras: event.extras) else {
                throw ScanFailure.duplicateKey(name, offset: keyOffset, field: name)
            }
            cursor.skipWhitespace()
            try cursor.expect(UInt8(ascii: ":"), "':' after the key", field: name)
            cursor.skipWhitespace()
            try scanValue(&cursor, key: key, field: field, name: name, into: &event)
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: ",") { cursor.index += 1; continue }
            try cursor.expect(UInt8(ascii: "}"), "',' or '}' after the value of \(name)")
            return
        }
    }

    /// True the first time a key appears: known fields by bit mask, unknown ones by a scan of the few
    /// extras (a set per record would cost an allocation per key).
    private func firstSighting(
        _ key: [UInt8], _ field: EventField?, seenKnown: inout UInt32, extras: [(key: [UInt8], value: [UInt8])]
    ) -> Bool {
        if let field {
            let bit = UInt32(1) << UInt32(field.ordinal)
            defer { seenKnown |= bit }
            return seenKnown & bit == 0
        }
        return !extras.contains { $0.key == key }
    }

    private func scanValue(
        _ cursor: inout JSONCursor, key: [UInt8], field: EventField?, name: String, into event: inout ScannedEvent
    ) throws(ScanFailure) {
        let offset = cursor.index
        switch field {
        case .credits?: event.credits = try scanNumeric(&cursor, name: name)
        case .quantity?: event.quantity = try scanNumeric(&cursor, name: name)
        case .attributes?: try scanAttributes(&cursor, into: &event)
        case .investigation? where isNull(cursor):
            _ = try cursor.scanLiteral(field: name)
        case let field?:
            guard cursor.peek() == 0x22 else { throw wrongType(cursor, name, expected: "a string") }
            var decoded: [UInt8] = []
            let range = try cursor.readStringRange(field: name, decoded: &decoded)
            event.texts[field] = .init(bytes: range.map { record[$0] } ?? decoded[...], offset: offset)
        case nil:
            var value: [UInt8] = []
            try cursor.canonicalValue(into: &value, depth: 0, depthMax: limits.attributesDepthMax, field: name)
            event.extras.append((key, value))
        }
    }

    private func scanNumeric(_ cursor: inout JSONCursor, name: String) throws(ScanFailure) -> ScannedEvent.Numeric {
        let offset = cursor.index
        switch cursor.peek() {
        case 0x22?:
            return .init(bytes: try cursor.readString(field: name), offset: offset, wasString: true)
        case let byte? where byte == UInt8(ascii: "-") || JSONBytes.isDigit(byte):
            let range = try cursor.scanNumber(field: name)
            return .init(bytes: Array(cursor.bytes[range]), offset: offset, wasString: false)
        default:
            throw wrongType(cursor, name, expected: "a number or a string holding a number")
        }
    }

    private func scanAttributes(_ cursor: inout JSONCursor, into event: inout ScannedEvent) throws(ScanFailure) {
        let start = cursor.index
        if isNull(cursor) {
            _ = try cursor.scanLiteral(field: "attributes")
            return
        }
        var canonical: [UInt8] = []
        try cursor.canonicalValue(
            into: &canonical, depth: 0, depthMax: limits.attributesDepthMax, field: "attributes")
        let size = cursor.index - start
        guard size <= limits.attributesBytesMax else {
            throw ScanFailure(
                rule: .attributesTooLarge, offset: start, field: "attributes",
                detail: "\(size) bytes is larger than attributesBytesMax (\(limits.attributesBytesMax) bytes)")
        }
        event.attributesRaw = start..<cursor.index
        event.attributesCanonical = canonical
        event.attributesOffset = start
    }

    private func isNull(_ cursor: JSONCursor) -> Bool { cursor.peek() == UInt8(ascii: "n") }

    private func wrongType(_ cursor: JSONCursor, _ name: String, expected: String) -> ScanFailure {
        guard let byte = cursor.peek() else {
            return cursor.failure("expected a value, found the end of the record", field: name)
        }
        let found = JSONBytes.typeName(startingWith: byte)
        if found == "something that is not JSON" {
            // Not a type error but bad JSON (NaN, a bare word): let the literal scanner name it.
            var probe = cursor
            do { _ = try probe.scanLiteral(field: name) } catch { return error }
        }
        return ScanFailure(
            rule: .fieldWrongType, offset: cursor.index, field: name, detail: "expected \(expected), got \(found)")
    }
}
