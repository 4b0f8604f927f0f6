/// An ISO 4217 currency with its minor-unit exponent (JPY 0, GBP 2, KWD 3).
///
/// Only codes in `ISO4217.active` exist: an unknown or lower-case code (`XXX`, `ABC`, `gbp`) is
/// refused at the edge, so a `Currency` value is always a real, active currency.
public struct Currency: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let code: String
    public let exponent: Int

    private init(code: String, exponent: Int) {
        self.code = code
        self.exponent = exponent
    }

    /// The currency for an upper-case ISO 4217 code, or nil if it is not an active currency.
    public init?(code: String) {
        guard let exponent = ISO4217.exponents[code] else { return nil }
        self.init(code: code, exponent: exponent)
    }

    public static let gbp = Currency(code: "GBP")!
    public static let eur = Currency(code: "EUR")!
    public static let usd = Currency(code: "USD")!
    public static let jpy = Currency(code: "JPY")!
    public static let kwd = Currency(code: "KWD")!

    /// The symbol analysts expect in a number format; the code itself where no symbol is common.
    public var symbol: String {
        switch code {
        case "GBP": "£"
        case "EUR": "€"
        case "USD": "$"
        case "JPY": "¥"
        default: code + " "
        }
    }

    public static func < (lhs: Currency, rhs: Currency) -> Bool { lhs.code < rhs.code }
    public var description: String { code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let currency = Currency(code: code) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(code) is not an active ISO 4217 currency code")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// The currency of a BCP 47 locale's region (`en-GB` -> GBP, `de-AT` -> EUR), or nil when the
    /// locale has no region we know. Organisations may always set their currency explicitly instead.
    public static func forLocale(_ identifier: String) -> Currency? {
        let parts = identifier.split(whereSeparator: { $0 == "-" || $0 == "_" })
        guard let region = parts.dropFirst().last(where: { $0.count == 2 && $0.allSatisfy(\.isLetter) })
        else { return nil }
        guard let code = ISO4217.regionCurrencies[region.uppercased()] else { return nil }
        return Currency(code: code)
    }
}
