import Foundation
import Testing
import TestSupport
@testable import Ledger

@Suite struct ExactDecimalTests {
    @Test(arguments: [
        ("12", 12_000_000), ("12.5", 12_500_000), ("1.50", 1_500_000), ("0.000001", 1), ("1e2", 100_000_000),
        ("1.5E-3", 1_500), ("-0", 0), ("0", 0), ("-3.25", -3_250_000), ("9223372036854.775807", Int64.max),
    ] as [(String, Int64)])
    func credits_parseAcceptedForms(text: String, microcredits: Int64) throws {
        #expect(try Credits.parse(text).get().microcredits == microcredits)
    }

    @Test(arguments: ["+5", " 5", "5 ", "0x10", "12.3.4", "01", ".5", "5.", "٣", "", "-", "1e", "NaN", "Infinity", "1,5"])
    func credits_parseRefusesForms(text: String) {
        #expect(Credits.parse(text) == .failure(.notADecimal))
    }

    @Test func credits_parseRefusesMoreThanSixDecimals() {
        #expect(Credits.parse("0.0000001") == .failure(.tooManyDecimalPlaces))
        #expect(Credits.parse("1.0000000") == .success(Credits(1)), "trailing zeros are not extra precision")
    }

    @Test func credits_parseRefusesOverflow() {
        #expect(Credits.parse("9223372036854.775808") == .failure(.outOfRange))
        #expect(Credits.parse("1e400") == .failure(.outOfRange))
        #expect(Credits.parse("99999999999999999999") == .failure(.outOfRange))
    }

    @Test func credits_descriptionIsPlainDecimal() {
        #expect(Credits(microcredits: 12_500_000).description == "12.5")
        #expect(Credits(12).description == "12")
        #expect(Credits(microcredits: -1).description == "-0.000001")
    }

    @Test func credits_arithmeticIsChecked() throws {
        let max = Credits(microcredits: .max)
        #expect(throws: ArithmeticOverflow.self) { try max.adding(Credits(microcredits: 1)) }
        #expect(throws: ArithmeticOverflow.self) { try Checked.sum([Int64.max, 1]) }
        #expect(try Credits(2).subtracting(Credits(3)) == Credits(-1))
    }
}

@Suite struct MoneyTests {
    @Test(arguments: [
        ("9.99", "GBP", 999), ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("0.05", "USD", 5),
        ("-25.00", "EUR", -2500), ("100", "GBP", 10_000), ("0.5", "KWD", 500),
    ] as [(String, String, Int64)])
    func money_parseMajorUnitsExactly(text: String, code: String, minor: Int64) throws {
        let currency = try #require(Currency(code: code))
        #expect(try Money.parse(major: text, currency: currency).get().minorUnits == minor)
    }

    @Test func money_refusesMoreDecimalsThanTheCurrencyHas() {
        #expect(Money.parse(major: "1500.5", currency: .jpy) == .failure(.tooManyDecimalPlaces(allowed: 0)))
        #expect(Money.parse(major: "9.999", currency: .gbp) == .failure(.tooManyDecimalPlaces(allowed: 2)))
        #expect(Money.parse(major: "1.2345", currency: .kwd) == .failure(.tooManyDecimalPlaces(allowed: 3)))
        #expect(Money.parse(major: "1,50", currency: .eur) == .failure(.notADecimal))
    }

    @Test func money_amountTextUsesTheCurrencyExponent() {
        #expect(Money(minorUnits: 1230, currency: .gbp).amountText == "12.30")
        #expect(Money(minorUnits: 1500, currency: .jpy).amountText == "1500")
        #expect(Money(minorUnits: -5, currency: .kwd).amountText == "-0.005")
    }

    @Test func currency_tableKnowsExponentsAndRefusesNonCurrencies() {
        #expect(Currency(code: "JPY")?.exponent == 0)
        #expect(Currency(code: "GBP")?.exponent == 2)
        #expect(Currency(code: "KWD")?.exponent == 3)
        #expect(Currency(code: "CLF")?.exponent == 4)
        for code in ["XXX", "ABC", "gbp", "XAU", "XTS", ""] { #expect(Currency(code: code) == nil, "\(code)") }
    }

    @Test func currency_resolvesFromLocaleRegion() {
        #expect(Currency.forLocale("en-GB") == .gbp)
        #expect(Currency.forLocale("de-AT") == .eur)
        #expect(Currency.forLocale("en_US") == .usd)
        #expect(Currency.forLocale("ja-JP") == .jpy)
        #expect(Currency.forLocale("en") == nil)
    }
}

@Suite struct RoundingTests {
    @Test(arguments: [
        (25, 10, RoundingRule.halfEven, 2), (35, 10, .halfEven, 4), (-25, 10, .halfEven, -2), (26, 10, .halfEven, 3),
        (25, 10, .halfUp, 3), (-25, 10, .halfUp, -3), (29, 10, .towardZero, 2), (-29, 10, .towardZero, -2),
        (21, 10, .up, 3), (-29, 10, .up, -2), (29, 10, .down, 2), (-21, 10, .down, -3), (20, 10, .halfEven, 2),
    ] as [(Int64, Int64, RoundingRule, Int64)])
    func divide_roundsByTheNamedRule(numerator: Int64, divisor: Int64, rule: RoundingRule, expected: Int64) {
        #expect(Checked.divide(numerator, by: divisor, rule) == expected)
        #expect(Checked.multiplyDivide(numerator, 1, divisor, rule) == expected)
    }

    @Test func multiplyDivide_usesAWideIntermediate() {
        // 9e18 * 4 overflows Int64, but the quotient fits.
        #expect(Checked.multiplyDivide(9_000_000_000_000_000_000, 4, 8, .halfEven) == 4_500_000_000_000_000_000)
        #expect(Checked.multiplyDivide(Int64.max, 2, 1, .halfEven) == nil)
    }

    @Test func exactDecimal_roundsToPlaces() throws {
        let value = try ExactDecimal.parse("2.345").get()
        #expect(value.rounded(toPlaces: 2, .halfEven) == 234)
        #expect(value.rounded(toPlaces: 2, .halfUp) == 235)
        #expect(value.scaled(toPlaces: 2) == nil)
    }
}

@Suite struct TimeTests {
    @Test func instant_parsesOffsetsAndFractions() throws {
        #expect(try Instant.parse("2026-11-23T10:00:00Z").get().iso8601 == "2026-11-23T10:00:00.000Z")
        #expect(try Instant.parse("2026-11-23T10:00:00+05:45").get().iso8601 == "2026-11-23T04:15:00.000Z")
        #expect(try Instant.parse("2025-12-31T22:13:40.201337Z").get().iso8601 == "2025-12-31T22:13:40.201Z")
        #expect(try Instant.parse("2026-03-29T01:30:00-0100").get().iso8601 == "2026-03-29T02:30:00.000Z")
    }

    @Test(arguments: [
        ("2026-11-23T10:00:00", Instant.ParseError.missingOffset), ("2026-02-30T00:00:00Z", .impossibleDate),
        ("2026-11-23T24:00:00Z", .impossibleDate), ("2026-12-31T23:59:60Z", .impossibleDate),
        ("1999-12-31T00:00:00Z", .outOfRange), ("2026-11-23 10:00:00Z", .malformed), ("1732356000", .malformed),
    ])
    func instant_refusesBadTimestamps(text: String, error: Instant.ParseError) {
        #expect(Instant.parse(text) == .failure(error))
    }

    @Test func localDate_roundTripsAndKnowsTimeZones() throws {
        let date = try #require(LocalDate.parse("2024-02-29"))
        #expect(LocalDate(daysSinceEpoch: date.daysSinceEpoch) == date)
        #expect(LocalDate.parse("2026-02-29") == nil)
        let london = try #require(TimeZone(identifier: "Europe/London"))
        // 1 July in London begins at 23:00 UTC the day before (BST).
        #expect(LocalDate(year: 2026, month: 7, day: 1)!.startInstant(in: london).iso8601 == "2026-06-30T23:00:00.000Z")
        #expect(LocalDate.of(instant("2026-06-30T23:30:00Z"), in: london).description == "2026-07-01")
        #expect(LocalDate(year: 2026, month: 11, day: 30)!.firstOfMonth(addingMonths: 2).description == "2027-01-01")
    }
}
