import Foundation

/// A point in time: whole milliseconds since 1970-01-01T00:00:00Z.
///
/// The ledger stores and compares instants as integers, so ordering and equality are exact and a
/// value round-trips through SQLite and JSON unchanged. Text is ISO 8601 with an explicit offset.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(_ date: Date) {
        self.millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public var date: Date { Date(timeIntervalSince1970: TimeInterval(millisecondsSinceEpoch) / 1000) }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func adding(milliseconds: Int64) -> Instant {
        Instant(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    public func adding(days: Int) -> Instant { adding(milliseconds: Int64(days) * 86_400_000) }

    public static let millisecondsPerDay: Int64 = 86_400_000

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed
        case missingOffset
        case impossibleDate
        case outOfRange

        public var description: String {
            switch self {
            case .malformed: "expected ISO 8601 such as 2026-11-23T10:00:00Z"
            case .missingOffset: "an offset (Z or +hh:mm) is required"
            case .impossibleDate: "not a real date or time"
            case .outOfRange: "outside the years 2000-2199"
            }
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`. Fractions beyond milliseconds are
    /// truncated (Revolut sends microseconds). Refused: no offset, `24:00`, leap second `:60`,
    /// impossible dates (`2026-02-30`), years outside 2000-2199.
    public static func parse(_ text: String) -> Result<Instant, ParseError> {
        parse(utf8: Array(text.utf8))
    }

    /// The same for an array: a concrete entry point, because the generic one called from another
    /// module runs unspecialised (a generic-metadata lookup per byte; 7% of ingest's time).
    public static func parse(utf8 input: [UInt8]) -> Result<Instant, ParseError> {
        parseFixedLayout(input)
    }

    /// The same for a slice (ingest keeps string fields as slices of the record).
    public static func parse(utf8 input: ArraySlice<UInt8>) -> Result<Instant, ParseError> {
        parseFixedLayout(input)
    }

    public static func parse<Bytes: RandomAccessCollection<UInt8>>(utf8 input: Bytes) -> Result<Instant, ParseError>
    where Bytes.Index == Int {
        parseFixedLayout(input)
    }

    /// Whether text that `parse` accepted has a non-zero digit after the milliseconds
    /// (`.1231Z`): `parse` truncates those (Revolut sends microseconds), which would make two
    /// different instants equal. Cost events refuse them (`timestampFinerThanMilliseconds`);
    /// trailing zeros (`.123000Z`) are exact and accepted.
    public static func hasNonZeroDigitsBeyondMilliseconds(utf8 text: ArraySlice<UInt8>) -> Bool {
        // `YYYY-MM-DDTHH:MM:SS` is fixed width, so the fraction, if any, starts at offset 19.
        var index = text.startIndex + 19
        guard index < text.endIndex, text[index] == UInt8(ascii: ".") else { return false }
        index += 1
        var position = 0
        while index < text.endIndex, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
            if position >= 3, text[index] != UInt8(ascii: "0") { return true }
            position += 1
            index += 1
        }
        return false
    }

    private static func parseFixedLayout<Bytes: RandomAccessCollection<UInt8>>(
        _ input: Bytes
    ) -> Result<Instant, ParseError> where Bytes.Index == Int {
        var scanner = FixedScanner(bytes: input)
        guard let year = scanner.number(4), scanner.expect("-"), let month = scanner.number(2),
            scanner.expect("-"), let day = scanner.number(2), scanner.expect("T") || scanner.expect("t"),
            let hour = scanner.number(2), scanner.expect(":"), let minute = scanner.number(2),
            scanner.expect(":"), let second = scanner.number(2)
        else { return .failure(.malformed) }
        var millis = 0
        if scanner.expect(".") {
            var digits = 0
            while let digit = scanner.digit() {
                if digits < 3 { millis = millis * 10 + digit }
                digits += 1
            }
            guard digits > 0 else { return .failure(.malformed) }
            var scaled = digits
            while scaled < 3 {
                millis *= 10
                scaled += 1
            }
        }
        guard !scanner.atEnd else { return .failure(.missingOffset) }
        var offsetMinutes = 0
        if scanner.expect("Z") || scanner.expect("z") {
            offsetMinutes = 0
        } else if let sign = scanner.sign() {
            guard let offsetHours = scanner.number(2) else { return .failure(.malformed) }
            _ = scanner.expect(":")
            guard let offsetMins = scanner.number(2), offsetHours <= 18, offsetMins < 60 else {
                return .failure(.malformed)
            }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        } else {
            return .failure(.malformed)
        }
        guard scanner.atEnd else { return .failure(.malformed) }
        guard (2000...2199).contains(year) else { return .failure(.outOfRange) }
        guard let date = LocalDate(year: year, month: month, day: day), hour < 24, minute < 60, second < 60
        else { return .failure(.impossibleDate) }
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetMinutes * 60)
        return .success(Instant(millisecondsSinceEpoch: seconds * 1000 + Int64(millis)))
    }

    /// `2026-11-23T10:00:00.000Z`: fixed width, so text order equals time order.
    public var iso8601: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `iso8601` as UTF-8 without building a String: ingest writes one per event into the
    /// canonical bytes it hashes, and the String (five interpolations) cost more than the hash.
    public func appendISO8601(to out: inout [UInt8]) {
        let days = Int(floorDivide(millisecondsSinceEpoch, Instant.millisecondsPerDay))
        let msOfDay = Int(millisecondsSinceEpoch - Int64(days) * Instant.millisecondsPerDay)
        let date = LocalDate(daysSinceEpoch: days)
        guard (0...9999).contains(date.year) else {
            // Outside four-digit years the padding rule differs; keep the general formatting.
            return out.append(contentsOf: Array(iso8601Interpolated.utf8))
        }
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(date.year, 4)
        out.append(UInt8(ascii: "-"))
        digits(date.month, 2)
        out.append(UInt8(ascii: "-"))
        digits(date.day, 2)
        out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3)
        out.append(UInt8(ascii: "Z"))
    }

    /// The general formatting, for years that do not have four digits.
    private var iso8601Interpolated: String {
        let days = Int(floorDivide(millisecondsSinceEpoch, Instant.millisecondsPerDay))
        let msOfDay = Int(millisecondsSinceEpoch - Int64(days) * Instant.millisecondsPerDay)
        let date = LocalDate(daysSinceEpoch: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let millis = msOfDay % 1000
        return "\(date)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millis, 3))Z"
    }

    /// The UTC calendar date of this instant.
    public var utcDate: LocalDate {
        LocalDate(daysSinceEpoch: Int(floorDivide(millisecondsSinceEpoch, Instant.millisecondsPerDay)))
    }

    public var description: String { iso8601 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch Instant.parse(text) {
        case .success(let instant): self = instant
        case .failure(let error):
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text): \(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// A minimal cursor over ASCII bytes for fixed-layout formats.
struct FixedScanner<Bytes: RandomAccessCollection<UInt8>> where Bytes.Index == Int {
    let bytes: Bytes
    var index: Int

    init(bytes: Bytes) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var atEnd: Bool { index >= bytes.endIndex }

    mutating func expect(_ character: Unicode.Scalar) -> Bool {
        guard !atEnd, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func digit() -> Int? {
        guard !atEnd, bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
        defer { index += 1 }
        return Int(bytes[index] - 0x30)
    }

    mutating func number(_ width: Int) -> Int? {
        var value = 0
        for _ in 0..<width {
            guard let next = digit() else { return nil }
            value = value * 10 + next
        }
        return value
    }

    mutating func sign() -> Int? {
        if expect("+") { return 1 }
        if expect("-") { return -1 }
        return nil
    }
}
