import GraphQL
import Ingest

/// Reads the common GraphQL-over-HTTP request body in one pass: an ASCII JSON object with a string
/// `query`, an optional string `operationName` and optional `variables` whose values are all strings.
///
/// `JSONDecoder` with `GraphQLRequest`'s `Map` variables cost a tenth of a balance request. Anything
/// outside the shape above (another key, a variable that is not a string, a duplicate key, non-ASCII
/// bytes, malformed JSON) gives nil, and the caller decodes with `JSONDecoder` as before, so every
/// refusal and every unusual request keeps `JSONDecoder`'s answer. For the shape above both give the
/// same `GraphQLRequest` (a test compares them).
enum GraphQLRequestScan {
    static func common(_ body: [UInt8]) -> GraphQLRequest? {
        // Non-ASCII text goes to JSONDecoder, which validates UTF-8.
        guard body.allSatisfy({ $0 < 0x80 }) else { return nil }
        return body.withUnsafeBufferPointer { bytes in
            var cursor = JSONCursor(bytes: bytes)
            return try? scanRequest(&cursor)
        }
    }

    private static func scanRequest(_ cursor: inout JSONCursor) throws(ScanFailure) -> GraphQLRequest? {
        var query: String?
        var operationName: String??
        var variables: [String: Map]?
        var membersLeft = try objectMembers(&cursor)
        while membersLeft {
            guard let key = try string(&cursor) else { return nil }
            try colon(&cursor)
            switch key {
            case "query" where query == nil:
                guard let value = try string(&cursor) else { return nil }
                query = value
            case "operationName" where operationName == nil:
                guard let value = try stringOrNull(&cursor) else { return nil }
                operationName = .some(value)
            case "variables" where variables == nil:
                guard let value = try stringVariables(&cursor) else { return nil }
                variables = value
            default:
                return nil
            }
            membersLeft = try nextMember(&cursor)
        }
        cursor.skipWhitespace()
        guard cursor.atEnd, let query else { return nil }
        return GraphQLRequest(query: query, operationName: operationName ?? nil, variables: variables ?? [:])
    }

    /// `{"name": "value", ...}` or `null` (no variables); nil for any other value.
    private static func stringVariables(_ cursor: inout JSONCursor) throws(ScanFailure) -> [String: Map]? {
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: "n") { return try null(&cursor) ? [:] : nil }
        guard cursor.peek() == UInt8(ascii: "{") else { return nil }
        var variables: [String: Map] = [:]
        var membersLeft = try objectMembers(&cursor)
        while membersLeft {
            guard let name = try string(&cursor), variables[name] == nil else { return nil }
            try colon(&cursor)
            guard let value = try string(&cursor) else { return nil }
            variables[name] = .string(value)
            membersLeft = try nextMember(&cursor)
        }
        return variables
    }

    /// A string, or `.some(nil)` for `null`; nil for any other value.
    private static func stringOrNull(_ cursor: inout JSONCursor) throws(ScanFailure) -> String?? {
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: "n") { return try null(&cursor) ? .some(nil) : nil }
        return try string(&cursor).map { .some($0) }
    }

    /// The decoded string when the next value is one (and valid UTF-8 once decoded), else nil.
    private static func string(_ cursor: inout JSONCursor) throws(ScanFailure) -> String? {
        cursor.skipWhitespace()
        guard cursor.peek() == 0x22 else { return nil }
        return String(validating: try cursor.readString(), as: UTF8.self)
    }

    private static func null(_ cursor: inout JSONCursor) throws(ScanFailure) -> Bool {
        for byte in "null".utf8 { try cursor.expect(byte, "null") }
        return true
    }

    private static func colon(_ cursor: inout JSONCursor) throws(ScanFailure) {
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: ":"), "':'")
    }

    /// Consumes `{`; true when a member follows, false for `{}`.
    private static func objectMembers(_ cursor: inout JSONCursor) throws(ScanFailure) -> Bool {
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: "{"), "'{'")
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: "}") {
            try cursor.expect(UInt8(ascii: "}"), "'}'")
            return false
        }
        return true
    }

    /// Consumes `,` (true: another member follows) or `}` (false).
    private static func nextMember(_ cursor: inout JSONCursor) throws(ScanFailure) -> Bool {
        cursor.skipWhitespace()
        if cursor.peek() == UInt8(ascii: ",") {
            try cursor.expect(UInt8(ascii: ","), "','")
            return true
        }
        try cursor.expect(UInt8(ascii: "}"), "'}'")
        return false
    }
}
