/// The one stated rule for runway: how long an organisation's spendable credits last at its recent
/// burn rate. The `runway` alert and the API's `runwayDays` both ask this type, so they can never
/// disagree on days left (they once used a 14-day and a 30-day window).
///
/// Burn is the organisation's deductions effective in the `windowDays` days up to the instant judged
/// (`(asOf - window, asOf]`). Spendable is what unprioritised work may spend (available less every
/// reservation), at least zero. Runway = `spendable x window / burn`, in exact integers:
/// milliseconds rounded down for comparisons and projections, tenths of a day rounded down for
/// display, whole days rounded down for the API. Nothing burnt means no runway (`nil`): a balance
/// that is not being spent never runs out. Projections stop at `projectionDaysMax`, so a run-out
/// date always exists and the API's 32-bit `Int` always holds it.
public struct Runway: Sendable, Hashable {
    /// The trailing window of the burn rate, in days.
    public static let windowDays = 14
    /// The longest projection, in days (a century).
    public static let projectionDaysMax: Int64 = 36_500

    /// Credits unprioritised work may spend (never negative).
    public let spendable: Credits
    /// Deductions effective in the window.
    public let burn: Credits

    public init(spendable: Credits, burn: Credits) {
        self.spendable = max(.zero, spendable)
        self.burn = burn
    }

    /// The window's start for a runway judged at `asOf` (exclusive).
    public static func windowStart(asOf: Instant) -> Instant {
        asOf.adding(days: -windowDays)
    }

    /// Whether anything was burnt in the window; without burn there is no runway.
    public var isDefined: Bool { burn.isPositive }

    /// The runway in milliseconds, rounded down and capped at `projectionDaysMax`; nil without burn.
    public var milliseconds: Int64? {
        scaled(by: Int64(Self.windowDays) * Instant.millisecondsPerDay, cap: Self.projectionDaysMax * Instant.millisecondsPerDay)
    }

    /// The runway in tenths of a day, rounded down and capped; nil without burn.
    public var tenthsOfDays: Int64? {
        scaled(by: Int64(Self.windowDays) * 10, cap: Self.projectionDaysMax * 10)
    }

    /// The runway in whole days, rounded down and capped; nil without burn.
    public var wholeDays: Int? {
        scaled(by: Int64(Self.windowDays), cap: Self.projectionDaysMax).map { Int($0) }
    }

    /// Whether the runway is shorter than `days` (compared in milliseconds). False without burn.
    public func isShorter(thanDays days: Int) -> Bool {
        guard let milliseconds else { return false }
        return milliseconds < Int64(days) * Instant.millisecondsPerDay
    }

    /// The instant the spendable credits run out at this burn rate; nil without burn.
    public func runOut(after asOf: Instant) -> Instant? {
        milliseconds.map { asOf.adding(milliseconds: $0) }
    }

    /// `spendable x factor / burn`, rounded down; beyond Int64 or `cap` it is `cap`.
    private func scaled(by factor: Int64, cap: Int64) -> Int64? {
        guard burn.isPositive else { return nil }
        let value = Checked.multiplyDivide(spendable.microcredits, factor, burn.microcredits, .down) ?? cap
        return min(value, cap)
    }
}
