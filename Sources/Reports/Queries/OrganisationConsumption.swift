import Foundation
import Ledger

/// An organisation's consumption over the days a period report looks at (the unusual-consumption
/// baseline, then the period), read in one pass (`LedgerReader.consumptionCells`) and rolled up
/// here into every figure the report shows of it: the breakdowns by team, investigation and
/// operation, the daily trend, and the days per team and investigation the unusual rule compares.
///
/// Why: the report used to read the same usage once per breakdown, six passes per organisation,
/// which made it most of the report's time on a night of a million events (issue 13).
struct OrganisationConsumption {
    /// The days, as local dates: `baselineDays` before the period, then the period's.
    let days: [LocalDate]
    /// The indices of `days` inside the period.
    let period: Range<Int>
    private let cells: [ConsumptionCell]
    private let currency: Currency

    static func read(
        _ reader: any LedgerReads, organisation: Organisation, period: ReportPeriod, baselineDays: Int
    ) throws -> OrganisationConsumption {
        let zone = try PeriodReportQuery.timeZone(organisation)
        let days = (-baselineDays..<0).map { period.firstDay.adding(days: $0) } + period.days
        let cells = try reader.consumptionCells(
            of: organisation.id, currency: organisation.currency, days: days.map { $0.startInstant(in: zone) },
            end: period.lastDay.adding(days: 1).startInstant(in: zone))
        return OrganisationConsumption(days: days, period: baselineDays..<days.count, cells: cells,
                                       currency: organisation.currency)
    }

    /// The period's consumption per value of `dimension`, in the ledger's key order (bytes of UTF-8).
    func groups(by dimension: ConsumptionDimension) throws -> [ConsumptionGroup] {
        var sums: [Key: Sum] = [:]
        for cell in cells where period.contains(cell.day) { try sums[Key(cell.key(dimension)), default: Sum()].add(cell) }
        return sums.sorted { $0.key < $1.key }.map { $0.value.group(key: $0.key.text, currency: currency) }
    }

    /// The period's consumption per day, one group per day of the period (zero when idle), in order.
    func daily() throws -> [ConsumptionGroup] {
        var sums = [Sum](repeating: Sum(), count: days.count)
        for cell in cells { try sums[cell.day].add(cell) }
        return period.map { sums[$0].group(key: String($0), currency: currency) }
    }

    /// Consumption per day (baseline days included) and value of `dimension`, where there was any,
    /// ordered by day, then key.
    func dailyGroups(by dimension: ConsumptionDimension) throws -> [DailyConsumptionGroup] {
        var sums: [Int: [Key: Sum]] = [:]
        for cell in cells { try sums[cell.day, default: [:]][Key(cell.key(dimension)), default: Sum()].add(cell) }
        return sums.keys.sorted().flatMap { day in
            sums[day]!.sorted { $0.key < $1.key }.map {
                DailyConsumptionGroup(day: day, group: $0.value.group(key: $0.key.text, currency: currency))
            }
        }
    }

    /// A key as the ledger groups it: by its UTF-8 bytes. `String` equality is canonical equivalence
    /// ("é" precomposed equals "e" and a combining accent), which would merge two keys SQLite keeps
    /// apart and break the tie-out with the ledger's own grouping.
    private struct Key: Hashable, Comparable {
        let text: String
        private let bytes: [UInt8]

        init(_ text: String) {
            self.text = text
            bytes = Array(text.utf8)
        }

        static func == (a: Key, b: Key) -> Bool { a.bytes == b.bytes }
        func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
        static func < (a: Key, b: Key) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
    }

    /// Checked sums of cells.
    private struct Sum {
        var eventCount: Int64 = 0
        var credits: Int64 = 0
        var money: Int64 = 0

        mutating func add(_ cell: ConsumptionCell) throws {
            eventCount = try Checked.add(eventCount, cell.eventCount)
            credits = try Checked.add(credits, cell.credits.microcredits)
            money = try Checked.add(money, cell.money.minorUnits)
        }

        func group(key: String, currency: Currency) -> ConsumptionGroup {
            ConsumptionGroup(key: key, eventCount: eventCount, credits: Credits(microcredits: credits),
                             money: Money(minorUnits: money, currency: currency))
        }
    }
}
