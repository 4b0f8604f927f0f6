/// The active ISO 4217 currency codes and their minor-unit exponents (ISO 4217 list one, as
/// amended to 2025). Funds, precious metals and testing codes without a minor unit (XAU, XDR,
/// XTS, XXX, ...) are deliberately absent: they are not currencies an organisation pays in.
enum ISO4217 {
    static let exponents: [String: Int] = {
        var table: [String: Int] = [:]
        for code in twoDecimal { table[code] = 2 }
        for code in zeroDecimal { table[code] = 0 }
        for code in threeDecimal { table[code] = 3 }
        for code in fourDecimal { table[code] = 4 }
        return table
    }()

    static let zeroDecimal = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ]
    static let threeDecimal = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
    static let fourDecimal = ["CLF", "UYW"]
    static let twoDecimal = [
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
        "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE",
        "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP",
        "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD",
        "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD",
        "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
        "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
        "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD",
        "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
        "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS",
        "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
    ]

    /// Region (ISO 3166-1 alpha-2) to its everyday currency, for resolving an organisation's
    /// currency from its locale.
    static let regionCurrencies: [String: String] = {
        var table: [String: String] = [
            "GB": "GBP", "IM": "GBP", "JE": "GBP", "GG": "GBP", "US": "USD", "PR": "USD", "EC": "USD",
            "CH": "CHF", "LI": "CHF", "JP": "JPY", "SE": "SEK", "NO": "NOK", "DK": "DKK", "IS": "ISK",
            "PL": "PLN", "CZ": "CZK", "HU": "HUF", "RO": "RON", "BG": "BGN", "RS": "RSD", "TR": "TRY",
            "UA": "UAH", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "IN": "INR", "SG": "SGD", "HK": "HKD",
            "CN": "CNY", "KR": "KRW", "ZA": "ZAR", "AE": "AED", "SA": "SAR", "QA": "QAR", "KW": "KWD",
            "BH": "BHD", "OM": "OMR", "JO": "JOD", "IL": "ILS", "MX": "MXN", "BR": "BRL", "AR": "ARS",
            "CL": "CLP", "CO": "COP", "PE": "PEN", "TH": "THB", "MY": "MYR", "ID": "IDR", "PH": "PHP",
            "VN": "VND", "EG": "EGP", "NG": "NGN", "KE": "KES", "MA": "MAD", "TN": "TND", "PK": "PKR",
            "BD": "BDT", "LK": "LKR", "TW": "TWD", "GE": "GEL", "AM": "AMD", "AZ": "AZN", "KZ": "KZT",
        ]
        let euro = [
            "AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV",
            "MT", "NL", "PT", "SI", "SK", "MC", "SM", "VA", "AD", "ME", "XK",
        ]
        for region in euro { table[region] = "EUR" }
        return table
    }()
}
