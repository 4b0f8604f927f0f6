import Ledger

/// A seller or buyer as printed on an invoice.
public struct InvoiceParty: Sendable, Hashable, Codable {
    public var name: String
    public var addressLines: [String]
    public var taxID: String?
    public var email: String?

    public init(name: String, addressLines: [String] = [], taxID: String? = nil, email: String? = nil) {
        self.name = name
        self.addressLines = addressLines
        self.taxID = taxID
        self.email = email
    }

    /// The lines printed for the party, in order.
    var printedLines: [String] {
        [name] + addressLines + (taxID.map { ["Tax ID: \($0)"] } ?? []) + (email.map { [$0] } ?? [])
    }
}

/// What an invoice line bills.
public enum InvoiceLineKind: String, Sendable, Hashable, CaseIterable, Codable {
    case planFee = "plan-fee"
    case package
    case adjustment
}

/// One billed line, in the invoice's currency.
public struct InvoiceLine: Sendable, Hashable, Codable {
    public var kind: InvoiceLineKind
    public var description: String
    /// The Revolut order id for a package; a plan period or adjustment id otherwise.
    public var reference: String?
    /// The order's completion date for a package; the period start for the plan fee.
    public var date: LocalDate?
    /// Credits bought or granted by the line, when it has any.
    public var credits: Credits?
    /// Net of tax; negative for a credit adjustment.
    public var amount: Money

    public init(
        kind: InvoiceLineKind, description: String, reference: String? = nil, date: LocalDate? = nil,
        credits: Credits? = nil, amount: Money
    ) {
        self.kind = kind
        self.description = description
        self.reference = reference
        self.date = date
        self.credits = credits
        self.amount = amount
    }
}

/// The appendix: consumption by team and investigation over the invoiced period.
public struct InvoiceAppendixRow: ReportRow, Hashable, Codable {
    public var team: String
    /// Empty for consumption without an investigation.
    public var investigation: String
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(team: String, investigation: String, eventCount: Int64, consumption: CreditsAndMoney) {
        self.team = team
        self.investigation = investigation
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Team", .text, width: 24, total: .label("Total")), ReportColumn("Investigation", .text, width: 28),
    ] + usageColumns

    public var cells: [ReportCell] { [.text(team), .text(investigation), .integer(eventCount)] + consumption.cells }
}

/// Why an invoice value could not be built.
public enum InvoiceError: Error, Equatable, Sendable {
    /// A line's currency differs from the invoice's.
    case lineCurrencyMustMatchInvoice(line: Int)
    /// The tax rate must be between 0 and 100 percent with at most 6 decimals.
    case taxRateOutOfRange
    /// A sum or the tax does not fit in Int64 minor units.
    case overflow
}

/// An invoice for one organisation and period, with its totals computed exactly.
///
/// Rounding: tax is computed once, on the subtotal (not per line): `subtotal × rate / 100`
/// rounded half-even to the currency's minor unit. Total = subtotal + tax, exactly.
public struct Invoice: Sendable, Hashable {
    /// Unique and gap-free per issuer; allocated by the Ledger when the invoice is recorded.
    public let number: String
    public let issueDate: LocalDate
    public let dueDate: LocalDate
    public let period: ReportPeriod
    public let seller: InvoiceParty
    public let buyer: InvoiceParty
    public let currency: Currency
    public let lines: [InvoiceLine]
    /// Percent, e.g. 20 for 20% (`ExactDecimal(significand: 20, scale: 0)`).
    public let taxRatePercent: ExactDecimal
    public let appendix: [InvoiceAppendixRow]
    public let subtotal: Money
    public let tax: Money
    public let total: Money

    public init(
        number: String, issueDate: LocalDate, dueDate: LocalDate, period: ReportPeriod, seller: InvoiceParty,
        buyer: InvoiceParty, currency: Currency, lines: [InvoiceLine], taxRatePercent: ExactDecimal,
        appendix: [InvoiceAppendixRow] = []
    ) throws(InvoiceError) {
        if let mismatch = lines.firstIndex(where: { $0.amount.currency != currency }) {
            throw .lineCurrencyMustMatchInvoice(line: mismatch)
        }
        guard let subtotalUnits = try? Checked.sum(lines.map(\.amount.minorUnits)) else { throw .overflow }
        let subtotal = Money(minorUnits: subtotalUnits, currency: currency)
        let tax = try Self.tax(on: subtotal, ratePercent: taxRatePercent)
        guard let total = try? subtotal.adding(tax) else { throw .overflow }
        self.number = number
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.period = period
        self.seller = seller
        self.buyer = buyer
        self.currency = currency
        self.lines = lines
        self.taxRatePercent = taxRatePercent
        self.appendix = appendix
        self.subtotal = subtotal
        self.tax = tax
        self.total = total
    }

    /// `amount × ratePercent / 100`, rounded half-even to the minor unit (exact, 128-bit).
    public static func tax(on amount: Money, ratePercent: ExactDecimal) throws(InvoiceError) -> Money {
        guard ratePercent.significand >= 0, ratePercent.scale <= 6 else { throw .taxRateOutOfRange }
        let divisor = 100 * Int64(pow10(ratePercent.scale))
        guard ratePercent.significand <= divisor else { throw .taxRateOutOfRange }
        guard let units = Checked.multiplyDivide(amount.minorUnits, ratePercent.significand, divisor, .halfEven)
        else { throw .overflow }
        return Money(minorUnits: units, currency: amount.currency)
    }

    private static func pow10(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { value, _ in value * 10 }
    }

    /// `20%`, `8.875%`.
    public var taxRateText: String { "\(taxRatePercent)%" }
}
