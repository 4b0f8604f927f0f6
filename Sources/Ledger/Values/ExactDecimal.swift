/// An exact decimal number read from text: `significand × 10^-scale`, never through binary floating point.
///
/// The accepted grammar is JSON's number grammar, for JSON numbers and for strings alike:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, ASCII digits only. So `"1.50"`, `1.5` and `1e2`
/// are accepted; `"+5"`, `" 5"`, `"0x10"`, `"12.3.4"`, `"01"`, `".5"`, `"5."` and non-ASCII digits
/// (`"٣"`) are not. `-0` parses (as zero); whether zero or negative is acceptable is the caller's rule.
public struct ExactDecimal: Sendable, Hashable, CustomStringConvertible {
    /// The digits as an integer; the value is `significand / 10^scale`.
    public let significand: Int64
    /// Number of decimal places, `0...maximumScale`.
    public let scale: Int

    /// No amount we handle needs more than 18 fractional digits; anything beyond is refused.
    public static let maximumScale = 18

    public init(significand: Int64, scale: Int) {
        precondition(scale >= 0 && scale <= ExactDecimal.maximumScale, "scale out of range")
        self.significand = significand
        self.scale = scale
    }

    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case notANumber
        case tooManyDigits
        case exponentOutOfRange
    }

    /// Parses the JSON number grammar from UTF-8 bytes.
    /// The same for an array: a concrete entry point, because the generic one called from another
    /// module runs unspecialised.
    public static func parse(utf8 bytes: [UInt8]) -> Result<ExactDecimal, ParseError> {
        parse(utf8: bytes[...])
    }

    public static func parse<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) -> Result<ExactDecimal, ParseError> {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return .failure(.empty) }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index = bytes.index(after: index)
        }
        // Integer part: "0" or a non-zero digit followed by digits.
        guard index != bytes.endIndex, isDigit(bytes[index]) else { return .failure(.notANumber) }
        var digits: [UInt8] = []
        if bytes[index] == UInt8(ascii: "0") {
            index = bytes.index(after: index)
            if index != bytes.endIndex, isDigit(bytes[index]) { return .failure(.notANumber) }
            digits.append(0)
        } else {
            while index != bytes.endIndex, isDigit(bytes[index]) {
                digits.append(bytes[index] &- UInt8(ascii: "0"))
                index = bytes.index(after: index)
            }
        }
        var fractionDigits = 0
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index = bytes.index(after: index)
            guard index != bytes.endIndex, isDigit(bytes[index]) else { return .failure(.notANumber) }
            while index != bytes.endIndex, isDigit(bytes[index]) {
                digits.append(bytes[index] &- UInt8(ascii: "0"))
                fractionDigits += 1
                index = bytes.index(after: index)
            }
        }
        var exponent = 0
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index = bytes.index(after: index)
            var exponentNegative = false
            if index != bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index = bytes.index(after: index)
            }
            guard index != bytes.endIndex, isDigit(bytes[index]) else { return .failure(.notANumber) }
            while index != bytes.endIndex, isDigit(bytes[index]) {
                exponent = exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                if exponent > 400 { return .failure(.exponentOutOfRange) }
                index = bytes.index(after: index)
            }
            if exponentNegative { exponent = -exponent }
        }
        guard index == bytes.endIndex else { return .failure(.notANumber) }
        return build(digits: digits, fractionDigits: fractionDigits, exponent: exponent, negative: negative)
    }

    public static func parse(_ text: String) -> Result<ExactDecimal, ParseError> {
        parse(utf8: Array(text.utf8))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Normalises digits, fraction length and exponent into (significand, scale), dropping trailing
    /// fractional zeros first so `1.500000000000000000000` still fits.
    private static func build(
        digits input: [UInt8], fractionDigits: Int, exponent: Int, negative: Bool
    ) -> Result<ExactDecimal, ParseError> {
        var digits = input
        var scale = fractionDigits - exponent
        while scale > 0, digits.count > 1, digits.last == 0 {
            digits.removeLast()
            scale -= 1
        }
        if digits.allSatisfy({ $0 == 0 }) { return .success(ExactDecimal(significand: 0, scale: 0)) }
        while scale < 0 {
            digits.append(0)
            scale += 1
            if digits.count > 19 { return .failure(.tooManyDigits) }
        }
        guard scale <= maximumScale else { return .failure(.tooManyDigits) }
        var value: Int64 = 0
        for digit in digits {
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (added, overflowB) = shifted.addingReportingOverflow(Int64(digit))
            if overflowA || overflowB { return .failure(.tooManyDigits) }
            value = added
        }
        return .success(ExactDecimal(significand: negative ? -value : value, scale: scale))
    }

    /// The value as an integer count of `10^-places` units, only if that is exact.
    /// Returns nil when the value has more decimal places than `places` or does not fit in Int64.
    public func scaled(toPlaces places: Int) -> Int64? {
        precondition(places >= 0 && places <= ExactDecimal.maximumScale)
        if scale > places {
            // Exact only if the extra digits are zeros; build() already removed trailing zeros.
            return nil
        }
        var value = significand
        for _ in 0..<(places - scale) {
            let (next, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = next
        }
        return value
    }

    /// The value rounded to `places` decimal places by `rule`; nil only on overflow.
    public func rounded(toPlaces places: Int, _ rule: RoundingRule) -> Int64? {
        if scale <= places { return scaled(toPlaces: places) }
        let divisor = Checked.powerOfTen(scale - places)
        return Checked.divide(significand, by: divisor, rule)
    }

    public var description: String { DecimalFormat.string(units: significand, places: scale) }
}
