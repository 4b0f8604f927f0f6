/// Rounding rules. Every place that rounds names its rule; the default for money and credits is
/// `.halfEven` (banker's rounding), which does not drift upwards over many roundings.
public enum RoundingRule: String, Sendable, CaseIterable, Codable {
    /// To the nearest; ties to the even neighbour (2.5 -> 2, 3.5 -> 4, -2.5 -> -2).
    case halfEven
    /// To the nearest; ties away from zero (2.5 -> 3, -2.5 -> -3).
    case halfUp
    /// Towards zero (2.9 -> 2, -2.9 -> -2).
    case towardZero
    /// Towards +infinity (2.1 -> 3, -2.9 -> -2).
    case up
    /// Towards -infinity (2.9 -> 2, -2.1 -> -3).
    case down
}

/// Overflow is an error, never a wrap. Every sum and product of amounts goes through here.
public struct ArithmeticOverflow: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public init(_ operation: String) { self.operation = operation }
    public var description: String { "arithmetic overflow in \(operation)" }
}

public enum Checked {
    public static func add(_ a: Int64, _ b: Int64) throws(ArithmeticOverflow) -> Int64 {
        let (result, overflow) = a.addingReportingOverflow(b)
        if overflow { throw ArithmeticOverflow("\(a) + \(b)") }
        return result
    }

    public static func subtract(_ a: Int64, _ b: Int64) throws(ArithmeticOverflow) -> Int64 {
        let (result, overflow) = a.subtractingReportingOverflow(b)
        if overflow { throw ArithmeticOverflow("\(a) - \(b)") }
        return result
    }

    public static func multiply(_ a: Int64, _ b: Int64) throws(ArithmeticOverflow) -> Int64 {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw ArithmeticOverflow("\(a) * \(b)") }
        return result
    }

    public static func sum<S: Sequence<Int64>>(_ values: S) throws(ArithmeticOverflow) -> Int64 {
        var total: Int64 = 0
        for value in values { total = try add(total, value) }
        return total
    }

    static func powerOfTen(_ exponent: Int) -> Int64 {
        precondition(exponent >= 0 && exponent <= 18, "10^\(exponent) does not fit in Int64")
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// `numerator / divisor` rounded by `rule`; nil only when the result does not fit (Int64.min / -1).
    public static func divide(_ numerator: Int64, by divisor: Int64, _ rule: RoundingRule) -> Int64? {
        precondition(divisor != 0, "division by zero")
        return roundQuotient(
            quotient: numerator.dividedReportingOverflow(by: divisor),
            remainder: numerator.remainderReportingOverflow(dividingBy: divisor).partialValue,
            divisor: divisor, rule: rule)
    }

    /// `a × b / divisor` with a 128-bit intermediate, rounded by `rule`. Nil when the result does
    /// not fit in Int64. This is how prices are spread over credits without losing a unit.
    public static func multiplyDivide(_ a: Int64, _ b: Int64, _ divisor: Int64, _ rule: RoundingRule) -> Int64? {
        precondition(divisor > 0, "divisor must be positive")
        let product = a.multipliedFullWidth(by: b)
        // A quotient of more than 64 bits traps in dividingFullWidth; check magnitude first.
        let negative = (a < 0) != (b < 0) && a != 0 && b != 0
        let magnitude = UInt128Parts(high: product.high, low: product.low).magnitude
        guard magnitude.high < UInt64(divisor) else { return nil }
        let (q, r) = UInt64(divisor).dividingFullWidth((magnitude.high, magnitude.low))
        guard q <= UInt64(Int64.max) else { return nil }
        var quotient = Int64(q)
        let remainder = Int64(r)
        if remainder != 0 {
            let twice = UInt64(remainder) * 2
            let up: Bool
            switch rule {
            case .towardZero: up = false
            case .up: up = !negative
            case .down: up = negative
            case .halfUp: up = twice >= UInt64(divisor)
            case .halfEven: up = twice > UInt64(divisor) || (twice == UInt64(divisor) && quotient % 2 == 1)
            }
            if up { quotient += 1 }
        }
        return negative ? -quotient : quotient
    }

    private static func roundQuotient(
        quotient: (partialValue: Int64, overflow: Bool), remainder: Int64, divisor: Int64, rule: RoundingRule
    ) -> Int64? {
        if quotient.overflow { return nil }
        var q = quotient.partialValue
        guard remainder != 0 else { return q }
        let negative = (remainder < 0) != (divisor < 0)
        let twiceRemainder = remainder.magnitude * 2
        let divisorMagnitude = divisor.magnitude
        let awayFromZero: Bool
        switch rule {
        case .towardZero: awayFromZero = false
        case .up: awayFromZero = !negative
        case .down: awayFromZero = negative
        case .halfUp: awayFromZero = twiceRemainder >= divisorMagnitude
        case .halfEven:
            awayFromZero = twiceRemainder > divisorMagnitude
                || (twiceRemainder == divisorMagnitude && q % 2 != 0)
        }
        if awayFromZero { q += negative ? -1 : 1 }
        return q
    }
}

/// Two's-complement 128-bit value split in halves, for taking the magnitude of a full-width product.
struct UInt128Parts {
    let high: Int64
    let low: UInt64

    var magnitude: (high: UInt64, low: UInt64) {
        if high >= 0 { return (UInt64(high), low) }
        // Negate the 128-bit value: invert and add one.
        let invertedLow = ~low
        let invertedHigh = ~UInt64(bitPattern: high)
        let (newLow, carry) = invertedLow.addingReportingOverflow(1)
        return (invertedHigh &+ (carry ? 1 : 0), newLow)
    }
}

/// Plain decimal text for integers with an implied number of decimal places: `12345, 2 -> "123.45"`.
/// No thousands separators, `.` as the decimal point, a leading `-` for negatives: the CSV form.
public enum DecimalFormat {
    public static func string(units: Int64, places: Int) -> String {
        guard places > 0 else { return String(units) }
        let magnitude = units.magnitude
        let divisor = UInt64(Checked.powerOfTen(places))
        let whole = magnitude / divisor
        let fraction = String(magnitude % divisor)
        let padded = String(repeating: "0", count: places - fraction.count) + fraction
        return (units < 0 ? "-" : "") + "\(whole).\(padded)"
    }
}
