import Ledger

/// One cell of a report table, typed so each output format can render it faithfully: numbers stay
/// numbers, dates stay dates, and text is always text (never a formula).
public enum ReportCell: Sendable, Hashable {
    /// Free text. Written as a string cell in XLSX; neutralised against formula injection in CSV.
    case text(String)
    /// A whole count (events, rows).
    case integer(Int64)
    /// Exact credits (six decimal places).
    case credits(Credits)
    /// Exact money in its currency's minor units.
    case money(Money)
    /// An exact decimal that is neither credits nor money (a ratio such as 3.25x baseline).
    case decimal(ExactDecimal)
    /// A calendar date (`yyyy-mm-dd`).
    case date(LocalDate)
    /// A UTC instant (`yyyy-mm-dd hh:mm:ss` in XLSX, ISO 8601 in CSV).
    case instant(Instant)
    /// No value.
    case empty
}

/// The type of a column; every non-empty cell in it must have this kind.
public enum ReportColumnKind: Sendable, Hashable {
    case text, integer, credits, money, decimal, date, instant

    func accepts(_ cell: ReportCell) -> Bool {
        switch (self, cell) {
        case (_, .empty), (.text, .text), (.integer, .integer), (.credits, .credits), (.money, .money),
            (.decimal, .decimal), (.date, .date), (.instant, .instant):
            true
        default:
            false
        }
    }
}

/// What a column shows in a table's totals row.
public enum ReportColumnTotal: Sendable, Hashable {
    /// Nothing.
    case none
    /// A fixed label such as "Total".
    case label(String)
    /// The exact sum of the column: a `SUM` formula with that sum as its cached value in XLSX, the
    /// CSV has no totals row. Money columns are summed only when every row has the same currency.
    case sum
}

/// A column of a report table: header title, kind, XLSX width and totals behaviour.
public struct ReportColumn: Sendable, Hashable {
    public var title: String
    public var kind: ReportColumnKind
    /// The least width in Excel character units; the XLSX writer widens the column to its
    /// longest value (see `XLSXColumnWidths`). Nil: as wide as the values and the title need.
    public var width: Double?
    public var total: ReportColumnTotal

    public init(_ title: String, _ kind: ReportColumnKind, width: Double? = nil, total: ReportColumnTotal = .none) {
        self.title = title
        self.kind = kind
        self.width = width
        self.total = total
    }
}

/// Exact running sums of a table's `.sum` columns, kept while rows are written so the totals row
/// never disagrees with the rows above it.
struct ColumnSums {
    private(set) var integers: [Int: Int64] = [:]
    private(set) var credits: [Int: Credits] = [:]
    private(set) var money: [Int: Money] = [:]
    /// Money columns that held more than one currency and therefore have no meaningful sum.
    private(set) var mixedCurrency: Set<Int> = []
    let columns: [ReportColumn]

    init(columns: [ReportColumn]) { self.columns = columns }

    mutating func add(_ row: [ReportCell]) throws(ArithmeticOverflow) {
        for (index, cell) in row.enumerated() where columns[index].total == .sum {
            switch cell {
            case .integer(let value): integers[index] = try Checked.add(integers[index] ?? 0, value)
            case .credits(let value): credits[index] = try (credits[index] ?? .zero).adding(value)
            case .money(let value): try addMoney(value, at: index)
            default: break
            }
        }
    }

    private mutating func addMoney(_ value: Money, at index: Int) throws(ArithmeticOverflow) {
        guard !mixedCurrency.contains(index) else { return }
        guard let previous = money[index] else {
            money[index] = value
            return
        }
        guard previous.currency == value.currency else {
            mixedCurrency.insert(index)
            money[index] = nil
            return
        }
        money[index] = try previous.adding(value)
    }

    /// The totals row's cell for column `index`.
    func totalCell(_ index: Int) -> ReportCell {
        switch columns[index].total {
        case .none: return .empty
        case .label(let text): return .text(text)
        case .sum:
            switch columns[index].kind {
            case .integer: return .integer(integers[index] ?? 0)
            case .credits: return .credits(credits[index] ?? .zero)
            case .money: return money[index].map(ReportCell.money) ?? .empty
            default: return .empty
            }
        }
    }

    var hasTotals: Bool { columns.contains { $0.total != .none } }
}
