import Ledger

/// Turns one record's bytes into a `CostEventRecord` or a `Rejection`: a strict, hand-written byte
/// scanner (6-8x faster than JSONDecoder, see STACK.md 4(a)) that names file, line, column and field.
///
/// Accepted forms, decided once here:
/// - `credits` and `quantity`: a JSON number or a string holding one, in the JSON number grammar
///   (`12`, `"12.50"`, `1.5`, `1e2`); never `"+5"`, `" 5"`, `"0x10"`, `"12.3.4"`, `"٣"`, `NaN`.
///   Credits carry at most 6 decimal places and must be greater than zero (`-0` is zero).
/// - Identifiers: non-empty printable ASCII, at most `eventIDBytesMax` bytes, no surrounding spaces;
///   compared byte for byte (so `NCA` and `nca` differ, and composed/decomposed `é` cannot occur).
/// - `investigation` and `attributes` may be absent or `null` (the same thing).
/// - `occurred_at`: ISO 8601 with an offset (`Instant.parse`), at most millisecond precision: a
///   non-zero digit after the third is refused rather than truncated, so two instants that differ
///   only below a millisecond never hash alike (`.1231Z` / `.1239Z` would be a false duplicate).
/// - Unknown fields are kept (`extrasJSON`), any JSON, under the attributes depth limit.
/// - The first problem found is reported; one rejection per record.
public struct CostEventParser: Sendable {
    /// The limits enforced while parsing.
    public let limits: IngestLimits
    /// The file name used in rejections.
    public let displayName: String

    /// A parser for records of the file shown as `displayName`.
    public init(displayName: String, limits: IngestLimits = .standard) {
        self.limits = limits
        self.displayName = displayName
    }

    /// Parses one JSON object that did not come through a file reader (`POST /v1/usage`, tests).
    /// `line` and `column` say where `bytes` starts. The bytes are checked as a file's records are
    /// (`RecordSplitters.checkedText`: invalid UTF-8, NUL) first, so the live API and batch ingest
    /// refuse the same bytes with the same rule.
    public func parse(_ bytes: [UInt8], line: Int, column: Int = 1) -> CostEventOutcome {
        switch RecordSplitters.checkedText(RawRecord(line: line, column: column, bytes: bytes), displayName: displayName) {
        case .record(let record): return parse(record)
        case .rejected(let rejection): return .rejected(rejection)
        }
    }

    func parse(_ record: RawRecord) -> CostEventOutcome {
        record.bytes.withUnsafeBufferPointer { buffer -> CostEventOutcome in
            do throws(ScanFailure) {
                let scanned = try CostEventScanner(limits: limits, record: record.bytes).scan(buffer)
                return .event(try build(scanned, buffer: buffer, record: record))
            } catch {
                let at = record.position(ofOffset: error.offset)
                return .rejected(Rejection(
                    error.rule, file: displayName, line: at.line, column: at.column, field: error.field,
                    detail: error.detail, raw: record.bytes))
            }
        }
    }

    private func build(
        _ scanned: ScannedEvent, buffer: UnsafeBufferPointer<UInt8>, record: RawRecord
    ) throws(ScanFailure) -> CostEventRecord {
        for field in EventField.required where scanned.texts[field] == nil {
            throw ScanFailure(
                rule: .fieldMissing, offset: 0, field: field.rawValue, detail: "required field is missing")
        }
        // Validated in `EventField.identifiers` order, so the first problem reported stays the same.
        let eventID = try identifier(scanned, .eventID) ?? ""
        let organisationID = try identifier(scanned, .organisationID) ?? ""
        let team = try identifier(scanned, .team) ?? ""
        let investigation = try identifier(scanned, .investigation)
        let operation = try identifier(scanned, .operation) ?? ""
        let unit = try identifier(scanned, .unit)
        let charge = try self.charge(scanned, unit: unit)
        let occurredAt = try instant(scanned.texts[.occurredAt])
        let attributes = scanned.attributesRaw.map { String(decoding: buffer[$0], as: UTF8.self) }
        let extras = scanned.extras.isEmpty ? nil : CanonicalJSON.object(scanned.extras)
        return CostEventRecord(
            eventID: eventID, organisationID: organisationID, team: team, investigation: investigation,
            operation: operation, charge: charge, occurredAt: occurredAt, attributesJSON: attributes,
            extrasJSON: extras.map { String(decoding: $0, as: UTF8.self) },
            canonicalBytes: canonical(scanned, charge: charge, occurredAt: occurredAt),
            source: SourcePosition(file: displayName, line: record.line))
    }

    /// The validated identifier in `field`, or nil when the record does not have it.
    private func identifier(_ scanned: ScannedEvent, _ field: EventField) throws(ScanFailure) -> String? {
        guard let text = scanned.texts[field] else { return nil }
        return try identifier(text, field: field)
    }

    private func identifier(_ text: ScannedEvent.Text, field: EventField) throws(ScanFailure) -> String {
        let bytes = text.bytes
        func fail(_ rule: RejectionRule, _ detail: String) -> ScanFailure {
            ScanFailure(rule: rule, offset: text.offset, field: field.rawValue, detail: detail)
        }
        if bytes.isEmpty { throw fail(.idEmpty, "must not be empty") }
        if bytes.count > limits.eventIDBytesMax {
            throw fail(
                .idTooLong,
                "\(bytes.count) bytes is longer than eventIDBytesMax (\(limits.eventIDBytesMax) bytes)")
        }
        let value = String(decoding: bytes, as: UTF8.self)
        if let first = bytes.first, let last = bytes.last, isSpace(first) || isSpace(last) {
            throw fail(.idHasSurroundingWhitespace, "\(quoted(value)) has spaces around it")
        }
        if !bytes.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) {
            throw fail(.idMustBePrintableASCII, "\(quoted(value)) contains characters outside printable ASCII")
        }
        return value
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// The units that name credits themselves: `"credits": 12, "unit": "credit"` says 12 credits
    /// twice over, so it is a charge of 12 credits (issue 16), not `bothCreditsAndQuantity`.
    static let creditUnits: Set<String> = ["credit", "credits"]

    /// True when the record's `unit` only restates that `credits` are credits (no quantity given).
    private static func unitRestatesCredits(_ scanned: ScannedEvent, unit: String?) -> Bool {
        scanned.credits != nil && scanned.quantity == nil && unit.map(creditUnits.contains) == true
    }

    private func charge(_ scanned: ScannedEvent, unit: String?) throws(ScanFailure) -> CostEventRecord.Charge {
        let quantityForm = scanned.quantity != nil || (scanned.texts[.unit] != nil
            && !Self.unitRestatesCredits(scanned, unit: unit))
        if let credits = scanned.credits {
            if quantityForm {
                throw ScanFailure(
                    rule: .bothCreditsAndQuantity, offset: credits.offset, field: "credits",
                    detail: "has both credits and quantity/unit; send one or the other")
            }
            return .credits(try self.credits(credits))
        }
        guard let quantity = scanned.quantity else {
            if scanned.texts[.unit] != nil {
                throw ScanFailure(
                    rule: .fieldMissing, offset: 0, field: "quantity", detail: "unit is given without a quantity")
            }
            throw ScanFailure(
                rule: .neitherCreditsNorQuantity, offset: 0, field: "credits",
                detail: "has neither credits nor quantity and unit")
        }
        guard let unit else {
            throw ScanFailure(rule: .fieldMissing, offset: 0, field: "unit", detail: "quantity is given without a unit")
        }
        return .quantity(try self.quantity(quantity), unit: unit)
    }

    private func credits(_ numeric: ScannedEvent.Numeric) throws(ScanFailure) -> Credits {
        let text = display(numeric)
        func fail(_ rule: RejectionRule, _ detail: String) -> ScanFailure {
            ScanFailure(rule: rule, offset: numeric.offset, field: "credits", detail: detail)
        }
        switch Credits.parse(utf8: numeric.bytes) {
        case .failure(.notADecimal):
            throw fail(.creditsMalformed, "\(text) is not an exact decimal such as 12 or 12.5")
        case .failure(.tooManyDecimalPlaces):
            throw fail(
                .creditsTooManyDecimalPlaces, "\(text) has more than \(Credits.decimalPlaces) decimal places")
        case .failure(.outOfRange) where Self.isTinyNonZero(numeric.bytes):
            // 8.5e-14 overflows ExactDecimal's scale, but the problem is precision, not size.
            throw fail(
                .creditsTooManyDecimalPlaces, "\(text) has more than \(Credits.decimalPlaces) decimal places")
        case .failure(.outOfRange):
            throw fail(.creditsOutOfRange, "\(text) is out of range")
        case .success(let credits):
            guard credits.isPositive else {
                throw fail(.creditsMustBePositive, "must be greater than zero, got \(text)")
            }
            return credits
        }
    }

    /// True for a number below one in magnitude (`0.000…1`, `8.5e-14`): only its precision can be wrong.
    static func isTinyNonZero(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts.first.map(String.init) ?? text
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let integerDigits = mantissa.split(separator: ".", maxSplits: 1).first?.filter(\.isNumber) ?? ""
        let significantIntegerDigits = integerDigits.drop { $0 == "0" }.count
        return significantIntegerDigits + exponent <= 0
    }

    private func quantity(_ numeric: ScannedEvent.Numeric) throws(ScanFailure) -> ExactDecimal {
        let text = display(numeric)
        func fail(_ rule: RejectionRule, _ detail: String) -> ScanFailure {
            ScanFailure(rule: rule, offset: numeric.offset, field: "quantity", detail: detail)
        }
        switch ExactDecimal.parse(utf8: numeric.bytes) {
        case .failure(.tooManyDigits), .failure(.exponentOutOfRange):
            throw fail(.quantityOutOfRange, "\(text) is out of range")
        case .failure:
            throw fail(.quantityMalformed, "\(text) is not an exact decimal such as 1500 or 2.5")
        case .success(let decimal):
            guard decimal.significand > 0 else {
                throw fail(.quantityMustBePositive, "must be greater than zero, got \(text)")
            }
            return decimal
        }
    }

    private func instant(_ text: ScannedEvent.Text?) throws(ScanFailure) -> Instant {
        guard let text else { preconditionFailure("occurred_at presence is checked first") }
        let value = quoted(String(decoding: text.bytes, as: UTF8.self))
        func fail(_ rule: RejectionRule, _ detail: String) -> ScanFailure {
            ScanFailure(rule: rule, offset: text.offset, field: "occurred_at", detail: detail)
        }
        switch Instant.parse(utf8: text.bytes) {
        case .success where Instant.hasNonZeroDigitsBeyondMilliseconds(utf8: text.bytes[...]):
            throw fail(
                .timestampFinerThanMilliseconds,
                "\(value) is more precise than a millisecond; digits after the third must be zeros")
        case .success(let instant): return instant
        case .failure(.missingOffset): throw fail(.timestampMissingOffset, "\(value) has no offset (Z or +hh:mm)")
        case .failure(.impossibleDate): throw fail(.timestampImpossible, "\(value) is not a real date and time")
        case .failure(.outOfRange): throw fail(.timestampOutOfRange, "\(value) is outside the years 2000-2199")
        case .failure(.malformed):
            throw fail(.timestampMalformed, "\(value) is not ISO 8601 such as 2026-11-03T09:15:00Z")
        }
    }

    private func display(_ numeric: ScannedEvent.Numeric) -> String {
        let text = String(decoding: numeric.bytes.prefix(40), as: UTF8.self)
        return numeric.wasString ? quoted(text) : text
    }

    private func quoted(_ text: String) -> String { "\"\(text)\"" }

    /// The canonical object that identifies the event's content (see `CanonicalJSON` for the rule);
    /// typed fields in their normal form so equal values give equal bytes. Written member by member
    /// in key order into one buffer: this runs once per event and is hashed for dedupe.
    private func canonical(
        _ scanned: ScannedEvent, charge: CostEventRecord.Charge, occurredAt: Instant
    ) -> [UInt8] {
        typealias Key = CanonicalKey
        var object = CanonicalObjectWriter(extras: scanned.extras, capacity: 256)
        func addIdentifier(_ key: [UInt8], _ field: EventField) {
            if let text = scanned.texts[field] { object.member(key, string: text.bytes) }
        }
        if let attributes = scanned.attributesCanonical { object.member(Key.attributes) { $0 += attributes } }
        if case .credits(let credits) = charge {
            object.member(Key.credits) { Self.quotedValue(into: &$0) { credits.appendDescription(to: &$0) } }
        }
        addIdentifier(Key.eventID, .eventID)
        addIdentifier(Key.investigation, .investigation)
        object.member(Key.occurredAt) { Self.quotedValue(into: &$0) { occurredAt.appendISO8601(to: &$0) } }
        addIdentifier(Key.operation, .operation)
        addIdentifier(Key.organisationID, .organisationID)
        if case .quantity(let quantity, _) = charge {
            object.member(Key.quantity, string: Array(quantity.description.utf8)[...])
        }
        addIdentifier(Key.team, .team)
        // A unit that only restates credits adds nothing: the event is the same as without it.
        if case .quantity = charge { addIdentifier(Key.unit, .unit) }
        return object.finish()
    }

    /// A string value whose content needs no escaping (digits, `.`, `-`, `:`, letters).
    private static func quotedValue(into out: inout [UInt8], _ write: (inout [UInt8]) -> Void) {
        out.append(0x22)
        write(&out)
        out.append(0x22)
    }
}

/// The canonical object's known keys as bytes, listed in their sorted (canonical) order.
private enum CanonicalKey {
    static let attributes = Array("attributes".utf8)
    static let credits = Array("credits".utf8)
    static let eventID = Array("event_id".utf8)
    static let investigation = Array("investigation".utf8)
    static let occurredAt = Array("occurred_at".utf8)
    static let operation = Array("operation".utf8)
    static let organisationID = Array("organisation_id".utf8)
    static let quantity = Array("quantity".utf8)
    static let team = Array("team".utf8)
    static let unit = Array("unit".utf8)
}
