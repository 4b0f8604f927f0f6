import Foundation

/// A calendar date without a time zone (proleptic Gregorian), e.g. a period boundary or a due date.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil for impossible dates such as 2026-02-30.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(year: year, month: month) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// From days since 1970-01-01 (Howard Hinnant's civil_from_days).
    public init(daysSinceEpoch: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// The first day of the month `months` after this date's month.
    public func firstOfMonth(addingMonths months: Int) -> LocalDate {
        let index = year * 12 + (month - 1) + months
        return LocalDate(year: index / 12, month: index % 12 + 1, day: 1)!
    }

    /// Parses `YYYY-MM-DD`.
    public static func parse(_ text: String) -> LocalDate? {
        let bytes = Array(text.utf8)
        var scanner = FixedScanner(bytes: bytes)
        guard let y = scanner.number(4), scanner.expect("-"), let m = scanner.number(2), scanner.expect("-"),
            let d = scanner.number(2), scanner.atEnd
        else { return nil }
        return LocalDate(year: y, month: m, day: d)
    }

    /// The instant this date begins in `timeZone` (local midnight; if a DST gap swallows midnight,
    /// the first instant of the day).
    public func startInstant(in timeZone: TimeZone) -> Instant {
        let utcMidnight = Int64(daysSinceEpoch) * Instant.millisecondsPerDay
        // The offset at local midnight: try the offset at the UTC instant, then re-check once.
        var offset = Int64(timeZone.secondsFromGMT(for: Instant(millisecondsSinceEpoch: utcMidnight).date)) * 1000
        let guess = utcMidnight - offset
        offset = Int64(timeZone.secondsFromGMT(for: Instant(millisecondsSinceEpoch: guess).date)) * 1000
        return Instant(millisecondsSinceEpoch: utcMidnight - offset)
    }

    /// The calendar date of `instant` in `timeZone`.
    /// The last millisecond of this day in `timeZone`: a balance "at the end of the day" counts every
    /// transfer effective up to and including it.
    public func lastInstant(in timeZone: TimeZone) -> Instant {
        adding(days: 1).startInstant(in: timeZone).adding(milliseconds: -1)
    }

    public static func of(_ instant: Instant, in timeZone: TimeZone) -> LocalDate {
        let offset = Int64(timeZone.secondsFromGMT(for: instant.date)) * 1000
        let local = instant.millisecondsSinceEpoch + offset
        return LocalDate(daysSinceEpoch: Int(floorDivide(local, Instant.millisecondsPerDay)))
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not a YYYY-MM-DD date")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
