/// An exact quantity of credits, stored as a whole number of micro-credits (10^-6 credit).
///
/// Six decimal places are enough for per-token pricing (a fraction of a credit per unit) while an
/// Int64 still holds more than nine trillion credits. Arithmetic is checked: overflow throws.
public struct Credits: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The number of decimal places a `Credits` value carries.
    public static let decimalPlaces = 6
    /// Micro-credits in one credit.
    public static let unitsPerCredit: Int64 = 1_000_000

    public let microcredits: Int64

    public static let zero = Credits(microcredits: 0)

    /// The most credits one cost event may charge and one transfer may move: 10^9 credits
    /// (10^15 micro-credits). Why a limit well inside Int64 (about 9.2 × 10^12 credits): a value
    /// near Int64's edge cannot be charged (balance minus it overflows) and any sum of two such
    /// values overflows, so one bad record could stop every organisation's night. At this limit
    /// 9,223 maximal amounts still sum exactly, and every sum is checked anyway. Ingest and
    /// `POST /v1/usage` refuse more (`creditsAboveEventLimit`), the posting engine refuses a
    /// transfer of more (`amountAboveTransferLimit`).
    public static let transferMax = Credits(microcredits: 1_000_000_000 * unitsPerCredit)

    public init(microcredits: Int64) {
        self.microcredits = microcredits
    }

    /// Whole credits; traps only if the value cannot be represented (a programmer error in a constant).
    public init(_ wholeCredits: Int64) {
        self.microcredits = wholeCredits * Credits.unitsPerCredit
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notADecimal
        case tooManyDecimalPlaces
        case outOfRange

        public var description: String {
            switch self {
            case .notADecimal: "expected an exact decimal number such as 12 or 12.5"
            case .tooManyDecimalPlaces: "more than \(Credits.decimalPlaces) decimal places"
            case .outOfRange: "out of range"
            }
        }
    }

    /// Parses an exact decimal (see `ExactDecimal` for the grammar). Refuses, never rounds, a value
    /// with more than six decimal places.
    public static func parse(_ text: String) -> Result<Credits, ParseError> {
        parse(utf8: Array(text.utf8))
    }

    /// The same for an array: a concrete entry point, because the generic one called from another
    /// module runs unspecialised.
    public static func parse(utf8 bytes: [UInt8]) -> Result<Credits, ParseError> {
        parse(utf8: bytes[...])
    }

    public static func parse<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) -> Result<Credits, ParseError> {
        switch ExactDecimal.parse(utf8: bytes) {
        case .failure(.tooManyDigits), .failure(.exponentOutOfRange): return .failure(.outOfRange)
        case .failure: return .failure(.notADecimal)
        case .success(let decimal):
            if decimal.scale > decimalPlaces { return .failure(.tooManyDecimalPlaces) }
            guard let units = decimal.scaled(toPlaces: decimalPlaces) else { return .failure(.outOfRange) }
            return .success(Credits(microcredits: units))
        }
    }

    public static func < (lhs: Credits, rhs: Credits) -> Bool { lhs.microcredits < rhs.microcredits }

    public func adding(_ other: Credits) throws(ArithmeticOverflow) -> Credits {
        Credits(microcredits: try Checked.add(microcredits, other.microcredits))
    }

    public func subtracting(_ other: Credits) throws(ArithmeticOverflow) -> Credits {
        Credits(microcredits: try Checked.subtract(microcredits, other.microcredits))
    }

    public var isPositive: Bool { microcredits > 0 }
    public var isNegative: Bool { microcredits < 0 }
    public var negated: Credits { Credits(microcredits: -microcredits) }

    /// Plain decimal without trailing fractional zeros: `12`, `12.5`, `-0.000001`.
    public var description: String {
        var bytes: [UInt8] = []
        appendDescription(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `description` as UTF-8 without building a String (ingest writes one per event into
    /// the canonical bytes it hashes).
    public func appendDescription(to out: inout [UInt8]) {
        if microcredits < 0 { out.append(UInt8(ascii: "-")) }
        let scale = UInt64(Checked.powerOfTen(Credits.decimalPlaces))
        let whole = microcredits.magnitude / scale
        var fraction = microcredits.magnitude % scale
        var divisor: UInt64 = 1
        while divisor <= whole / 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(whole / divisor % 10))
            divisor /= 10
        }
        guard fraction != 0 else { return }
        out.append(UInt8(ascii: "."))
        var place = scale / 10
        while fraction != 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / place))
            fraction %= place
            place /= 10
        }
    }

    // Encoded as the decimal string so JSON never carries credits through a binary float.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch Credits.parse(text) {
        case .success(let value): self = value
        case .failure(let error):
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "credits \(text): \(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
