import Graphiti
import GraphQL
import Ledger

/// A value the schema carries as a custom GraphQL scalar: text on the wire, a ledger value in Swift.
///
/// One strict parser per scalar (`parse`) serves every way a value arrives: a literal in the document
/// (checked while the document is validated), a variable (coerced before execution) and the decoding of
/// resolver arguments. Whatever it refuses is a request error with a message that says why; no amount
/// is rounded or passes through a binary float.
protocol GraphQLTextScalar: Codable, Sendable {
    /// The GraphQL name.
    static var graphQLName: String { get }
    /// The value from its wire text; the thrown message says what is wrong with it.
    static func parse(_ text: String) throws(GraphQLScalarError) -> Self
    /// The value from a whole number sent as a JSON number or an integer literal; nil refuses it.
    static func parse(integer: Int) -> Self?
    /// The wire text.
    var text: String { get }
}

/// Why a scalar refused a value: the message a client sees.
struct GraphQLScalarError: Error {
    let message: String
}

extension GraphQLTextScalar {
    static func parse(integer: Int) -> Self? { nil }

    /// `Decodable`, through `parse`.
    static func decode(from decoder: any Decoder) throws -> Self {
        let container = try decoder.singleValueContainer()
        let value: Self
        if let integer = try? container.decode(Int.self), let parsed = Self.parse(integer: integer) {
            value = parsed
        } else {
            do {
                value = try Self.parse(try container.decode(String.self))
            } catch let error as GraphQLScalarError {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
            }
        }
        return value
    }

    /// `Encodable`: the wire text.
    func encodeText(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// The Graphiti scalar, with strict `parseValue` (variables) and `parseLiteral` (document literals).
    static func scalar<Resolver, Context>(specifiedBy url: String? = nil) -> Scalar<Resolver, Context, Self> {
        Scalar(
            Self.self, as: graphQLName, specifiedBy: url,
            parseValue: { map, _ in try coerce(map) },
            parseLiteral: { value, _ in
                do {
                    switch value {
                    case let string as StringValue: return try coerce(.string(string.value))
                    case let integer as IntValue:
                        guard let number = Int(integer.value) else { throw refusal("\(integer.value) is out of range") }
                        return try coerce(.int(number))
                    default: throw refusal("expected a string")
                    }
                } catch let error as GraphQLError {
                    // With the literal's place in the document, as validation errors carry it.
                    throw GraphQLError(message: error.message, nodes: [value])
                }
            })
    }

    /// The canonical wire form of `map`, or a `GraphQLError` naming the scalar and the reason.
    static func coerce(_ map: Map) throws -> Map {
        switch map {
        case .string(let text):
            do {
                return .string(try parse(text).text)
            } catch {
                throw refusal(error.message)
            }
        case .number(let number):
            // JSON variables arrive as doubles: a whole number within 2^53 is exact, anything else is not.
            let double = number.doubleValue
            guard double.rounded() == double, double.magnitude <= 9_007_199_254_740_992 else {
                throw refusal("expected a string, not a fractional or inexact number")
            }
            guard let value = parse(integer: Int(double)) else { throw refusal("expected a string, not a number") }
            return .string(value.text)
        default:
            throw refusal("expected a string")
        }
    }

    static func refusal(_ reason: String) -> GraphQLError {
        GraphQLError(message: "\(graphQLName): \(reason).")
    }
}

/// `DateTime`: an instant as RFC 3339 text (the date-time scalar specification), always answered in UTC
/// with milliseconds (`2026-11-23T10:00:00.000Z`). Input needs an offset (`Z` or `±hh:mm`); fractions
/// beyond milliseconds are truncated; years 2000 to 2199, as the ledger stores.
public struct DateTime: GraphQLTextScalar, Hashable {
    public let instant: Instant

    public init(_ instant: Instant) {
        self.instant = instant
    }

    static let graphQLName = "DateTime"
    static let specification = "https://scalars.graphql.org/andimarek/date-time"

    static func parse(_ text: String) throws(GraphQLScalarError) -> DateTime {
        switch Instant.parse(text) {
        case .success(let instant): return DateTime(instant)
        case .failure(let error): throw GraphQLScalarError(message: "\(text) is not an RFC 3339 date-time: \(error)")
        }
    }

    var text: String { instant.iso8601 }

    // Codable through the scalar's own parser (Graphiti decodes arguments and encodes answers with it).
    public init(from decoder: any Decoder) throws { self = try Self.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}

/// `Credits`: an exact decimal number of credits as a string (`"12"`, `"-0.5"`, `"1000000.000001"`), at
/// most six decimal places. Never a fraction as a JSON number: GraphQL's `Int` is 32-bit and its `Float`
/// binary (a whole JSON number up to 2^53 is exact, and taken as its digits).
/// An input is at most `Credits.transferMax` (10^9 credits) either way, the most one ledger transfer moves;
/// answers (balances, sums) may be larger.
public struct CreditAmount: GraphQLTextScalar, Hashable {
    public let credits: Credits

    public init(_ credits: Credits) {
        self.credits = credits
    }

    static let graphQLName = "Credits"

    static func parse(_ text: String) throws(GraphQLScalarError) -> CreditAmount {
        switch Credits.parse(text) {
        case .success(let credits):
            guard credits.microcredits.magnitude <= Credits.transferMax.microcredits.magnitude else {
                throw GraphQLScalarError(
                    message: "\(text) is beyond \(Credits.transferMax) credits, the ledger's limit")
            }
            return CreditAmount(credits)
        case .failure(let error): throw GraphQLScalarError(message: "\(text): \(error)")
        }
    }

    static func parse(integer: Int) -> CreditAmount? {
        try? parse(String(integer))
    }

    var text: String { credits.description }

    // Codable through the scalar's own parser (Graphiti decodes arguments and encodes answers with it).
    public init(from decoder: any Decoder) throws { self = try Self.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}

/// `MinorUnits`: a whole number of a currency's minor units (pence, cents; yen themselves) as a string of
/// decimal digits with an optional minus, within signed 64 bits. A string because sums pass GraphQL
/// `Int`'s 32 bits and JavaScript's 2^53. Input also takes a whole JSON number up to 2^53.
public struct MinorUnits: GraphQLTextScalar, Hashable {
    public let value: Int64

    public init(_ value: Int64) {
        self.value = value
    }

    static let graphQLName = "MinorUnits"

    static func parse(_ text: String) throws(GraphQLScalarError) -> MinorUnits {
        let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int64(text)
        else { throw GraphQLScalarError(message: "\(text) is not a whole number of minor units within 64 bits") }
        return MinorUnits(value)
    }

    static func parse(integer: Int) -> MinorUnits? { MinorUnits(Int64(integer)) }

    var text: String { String(value) }

    // Codable through the scalar's own parser (Graphiti decodes arguments and encodes answers with it).
    public init(from decoder: any Decoder) throws { self = try Self.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}

/// `ID`: GraphQL's own identifier scalar (a string on the wire; an integer literal is accepted as input),
/// declared here so identifiers are typed as `ID` while Graphiti maps Swift `String` to `String`.
public struct Identifier: GraphQLTextScalar, Hashable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    static let graphQLName = "ID"

    static func parse(_ text: String) throws(GraphQLScalarError) -> Identifier { Identifier(text) }

    static func parse(integer: Int) -> Identifier? { Identifier(String(integer)) }

    var text: String { value }

    // Codable through the scalar's own parser (Graphiti decodes arguments and encodes answers with it).
    public init(from decoder: any Decoder) throws { self = try Self.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}
