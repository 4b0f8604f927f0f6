import Ledger

/// An amount of money: integer minor units and the currency. An object rather than a scalar so every
/// client reads it without a custom scalar parser, and the currency travels with each amount.
public struct MoneyView: Codable, Sendable, Hashable {
    public let minorUnits: MinorUnits
    /// ISO 4217 code.
    public let currency: String

    public init(_ money: Money) {
        minorUnits = MinorUnits(money.minorUnits)
        currency = money.currency.code
    }
}
