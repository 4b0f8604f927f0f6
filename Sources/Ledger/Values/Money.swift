/// An exact amount of money: an integer count of the currency's minor units (ISO 4217 exponent).
/// GBP 12.34 is `Money(minorUnits: 1234, currency: .gbp)`; JPY 1500 is `minorUnits: 1500`.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notADecimal
        case tooManyDecimalPlaces(allowed: Int)
        case outOfRange

        public var description: String {
            switch self {
            case .notADecimal: "expected an exact decimal amount such as 12.34"
            case .tooManyDecimalPlaces(let allowed): "more than \(allowed) decimal places for this currency"
            case .outOfRange: "out of range"
            }
        }
    }

    /// Parses a decimal amount in major units (`"9.99"` GBP -> 999 minor units). Refuses more decimal
    /// places than the currency has (`"1500.5"` JPY), never rounding silently.
    public static func parse(major text: String, currency: Currency) -> Result<Money, ParseError> {
        switch ExactDecimal.parse(text) {
        case .failure(.tooManyDigits), .failure(.exponentOutOfRange): return .failure(.outOfRange)
        case .failure: return .failure(.notADecimal)
        case .success(let decimal):
            if decimal.scale > currency.exponent { return .failure(.tooManyDecimalPlaces(allowed: currency.exponent)) }
            guard let units = decimal.scaled(toPlaces: currency.exponent) else { return .failure(.outOfRange) }
            return .success(Money(minorUnits: units, currency: currency))
        }
    }

    public func adding(_ other: Money) throws(ArithmeticOverflow) -> Money {
        precondition(currency == other.currency, "adding \(other.currency) to \(currency)")
        return Money(minorUnits: try Checked.add(minorUnits, other.minorUnits), currency: currency)
    }

    public func subtracting(_ other: Money) throws(ArithmeticOverflow) -> Money {
        precondition(currency == other.currency, "subtracting \(other.currency) from \(currency)")
        return Money(minorUnits: try Checked.subtract(minorUnits, other.minorUnits), currency: currency)
    }

    /// Major units as plain decimal text with exactly the currency's decimals: `"12.30"`, `"1500"`.
    public var amountText: String { DecimalFormat.string(units: minorUnits, places: currency.exponent) }

    public var description: String { "\(currency.code) \(amountText)" }
}
