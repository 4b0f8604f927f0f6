import Ledger

/// An amount in credits with its money value (at the grants' cost basis) in one currency.
public struct CreditsAndMoney: Sendable, Hashable, Codable {
    public var credits: Credits
    public var money: Money

    public init(credits: Credits, money: Money) {
        self.credits = credits
        self.money = money
    }

    public static func zero(_ currency: Currency) -> CreditsAndMoney {
        CreditsAndMoney(credits: .zero, money: .zero(currency))
    }

    var cells: [ReportCell] { [.credits(credits), .money(money)] }
}
