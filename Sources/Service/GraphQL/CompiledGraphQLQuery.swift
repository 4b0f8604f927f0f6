import Foundation
import GraphQL

/// A plan that answers one validated document without GraphQL's general executor.
///
/// For a small query the general executor costs far more than the query's own work: it builds an
/// execution context, coerces variables through `Map`, decodes arguments with `MapDecoder`, completes
/// every field through the type system and encodes a `Map` tree. The owner of a schema may compile
/// the documents it knows to be hot into a plan (`GraphQLEndpoint(compiler:)`); the document cache
/// keeps the plan beside the document, so it is built once per query text.
///
/// A plan must answer byte for byte what the executor would. Whenever it cannot (a resolver error to
/// report, a variable of an unexpected shape, another operation name) `run` returns nil, and the
/// request goes through the executor as if there were no plan. Plans are for reads only: a request
/// may be executed again after its plan gave up.
public struct CompiledGraphQLQuery<Context: Sendable>: Sendable {
    let run: @Sendable (_ request: GraphQLRequest, _ context: Context) async -> [UInt8]?

    public init(_ run: @escaping @Sendable (_ request: GraphQLRequest, _ context: Context) async -> [UInt8]?) {
        self.run = run
    }
}

/// Writes a GraphQL response object the way `GraphQLJSONEncoder` does: no whitespace, keys in the
/// order written, strings escaped as RFC 8259 requires and nothing more (slashes and non-ASCII text
/// as they are).
struct GraphQLResponseWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func beginObject() { bytes.append(UInt8(ascii: "{")) }

    mutating func endObject() { bytes.append(UInt8(ascii: "}")) }

    /// Writes `"key":`, preceded by a comma unless it is the object's first member.
    mutating func key(_ key: String, first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var copied = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5c {
                bytes.append(contentsOf: utf8[copied..<index])
                appendEscape(byte)
                copied = index + 1
            }
            bytes.append(contentsOf: utf8[copied...])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        let short: UInt8? = switch byte {
        case 0x22: UInt8(ascii: "\"")
        case 0x5c: UInt8(ascii: "\\")
        case 0x08: UInt8(ascii: "b")
        case 0x0c: UInt8(ascii: "f")
        case 0x0a: UInt8(ascii: "n")
        case 0x0d: UInt8(ascii: "r")
        case 0x09: UInt8(ascii: "t")
        default: nil
        }
        bytes.append(UInt8(ascii: "\\"))
        if let short { return bytes.append(short) }
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]])
    }
}
