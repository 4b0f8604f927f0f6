import Foundation
import GraphQL

/// The media type a GraphQL response is sent as, chosen from the request's `Accept` header.
///
/// GraphQL over HTTP (graphql/graphql-over-http, spec/GraphQLOverHTTP.md, "Accept" and "Body"): a client
/// asks for `application/graphql-response+json`, a legacy client for `application/json`; the server
/// answers the highest-priority type it supports. An absent header, `*/*`, `application/*`, or a header
/// naming nothing supported gets `application/json` (the spec lets the server disregard an unsupported
/// `Accept` rather than answer 406; every GraphQL client reads JSON).
public enum GraphQLResponseMediaType: Sendable, Equatable {
    case graphQLResponseJSON
    case json

    public var contentType: String {
        switch self {
        case .graphQLResponseJSON: "application/graphql-response+json; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        }
    }

    /// The supported type with the highest `q` in `accept`; on a tie, the one listed first.
    public static func negotiate(accept: String?) -> Self {
        guard let accept else { return .json }
        var best: (type: Self, quality: Double)?
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let type: Self
            switch parts.first?.lowercased() {
            case "application/graphql-response+json": type = .graphQLResponseJSON
            case "application/json", "application/*", "*/*": type = .json
            default: continue
            }
            let quality = parts.dropFirst().lazy
                .compactMap { $0.lowercased().hasPrefix("q=") ? Double($0.dropFirst(2)) : nil }.first ?? 1
            if quality > 0, quality > (best?.quality ?? 0) { best = (type, quality) }
        }
        return best?.type ?? .json
    }
}

/// A GraphQL-over-HTTP request as it arrived: a POST body, or the query component of a GET URL.
public enum GraphQLHTTPRequest: Sendable {
    case post(body: [UInt8])
    /// The raw, percent-encoded query component of `GET /graphql?query=...` (nil when the URL has none).
    case get(urlQuery: String?)

    /// The `Allow` header of a 405: GET may not run mutations (GraphQL over HTTP, "GET").
    static let methodsForMutations = "POST"
}

/// Why a GraphQL-over-HTTP request produced no execution, which decides its HTTP status. The statuses
/// are those of GraphQL over HTTP ("Status Codes", as of graphql/graphql-over-http e1e46e7, August
/// 2026), for `application/graphql-response+json` and, as that text asks, for legacy `application/json`
/// clients alike.
enum GraphQLRequestFailure: Sendable, Equatable {
    /// The body is not JSON.
    case unreadableBody
    /// JSON, but not a GraphQL-over-HTTP request (no string `query`, `variables` not an object, ...).
    case notWellFormed
    /// The document does not parse.
    case syntax
    /// Validation, a `GraphQLLimits` limit, the operation to run cannot be determined, or the variables
    /// cannot be coerced.
    case invalid
    /// A mutation sent with GET.
    case mutationOverGET
    /// No preparation thread was free within the budget.
    case unavailable

    var status: Int {
        switch self {
        case .unreadableBody, .syntax: 400
        case .notWellFormed, .invalid: 422
        case .mutationOverGET: 405
        case .unavailable: 503
        }
    }
}

/// Reads the parameters of a GET request: `application/x-www-form-urlencoded` (`+` is a space, then
/// percent-decoding), where an empty optional parameter is the same as an absent one.
enum GraphQLGETParameters {
    struct Failure: Error {
        let message: String
    }

    /// The request, or why it is not a well-formed GraphQL-over-HTTP request. `variablesNesting` bounds
    /// the nesting of the `variables` JSON before it is decoded (see `GraphQLNestingScan`).
    static func request(urlQuery: String?, variablesNesting: Int) throws(Failure) -> GraphQLRequest {
        var parameters: [String: String] = [:]
        for pair in (urlQuery ?? "").split(separator: "&") {
            let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(nameAndValue[0]), let value = decode(nameAndValue.count > 1 ? nameAndValue[1] : "")
            else { throw Failure(message: "The URL's query component is not valid percent-encoded UTF-8.") }
            guard parameters[name] == nil else { throw Failure(message: "The parameter \(name) is given twice.") }
            parameters[name] = value
        }
        guard let query = parameters["query"], !query.isEmpty else {
            throw Failure(message: "A GET request needs a query parameter holding the GraphQL document.")
        }
        var variables: [String: Map] = [:]
        if let text = parameters["variables"], !text.isEmpty {
            do {
                try GraphQLNestingScan.check(json: Array(text.utf8), maxNesting: variablesNesting)
            } catch {
                throw Failure(message: error.description)
            }
            guard let decoded = try? JSONDecoder().decode([String: Map].self, from: Data(text.utf8)) else {
                throw Failure(message: "The variables parameter must be a JSON object.")
            }
            variables = decoded
        }
        let operationName = parameters["operationName"].flatMap { $0.isEmpty ? nil : $0 }
        return GraphQLRequest(query: query, operationName: operationName, variables: variables)
    }

    private static func decode(_ component: Substring) -> String? {
        String(component).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension Document {
    /// The operation a request with `operationName` runs, or nil when it cannot be determined (execution
    /// then reports why).
    func operation(named operationName: String?) -> OperationDefinition? {
        let operations = definitions.compactMap { $0 as? OperationDefinition }
        guard let operationName else { return operations.count == 1 ? operations[0] : nil }
        return operations.first { $0.name?.value == operationName }
    }
}
