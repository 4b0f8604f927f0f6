import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: `/graphql` speaks GraphQL over HTTP (graphql/graphql-over-http, spec/GraphQLOverHTTP.md): GET for
/// queries (mutations refused with 405 and `Allow: POST`), `application/graphql-response+json` when the
/// `Accept` header asks for it, and the spec's status for each kind of request error, the same whether
/// the document failed to validate or its variables failed to coerce, each error with a stable
/// `extensions.code` (issue 16). Method: the real
/// service over a real ledger file on loopback.
@Suite struct GraphQLOverHTTPTests {
    let directory = TemporaryDirectory("graphql-over-http")
    static let graphQLResponse = "application/graphql-response+json"
    static let balance = #"query B($o: ID!) { creditBalance(organisationId: $o) { available } }"#

    func withService(_ body: (ServiceHTTPTests.Harness, String) async throws -> Void) async throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "client", by: .tests)
        try await LedgerBackedTests.serve(ledger, name: "graphql-over-http") { service in
            try await body(service, key)
        }
    }

    static func post(
        _ service: ServiceHTTPTests.Harness, key: String, _ body: String, accept: String? = graphQLResponse
    ) async throws -> HTTPAnswer {
        var headers = ["Content-Type": "application/json", "Authorization": "Bearer \(key)"]
        if let accept { headers["Accept"] = accept }
        return try await send("POST", service.url("graphql"), headers: headers, body: Data(body.utf8))
    }

    static func get(
        _ service: ServiceHTTPTests.Harness, key: String, _ parameters: [(String, String)],
        accept: String? = graphQLResponse
    ) async throws -> HTTPAnswer {
        var components = URLComponents(url: service.url("graphql"), resolvingAgainstBaseURL: false)!
        // As URLSearchParams encodes: every reserved character percent-encoded, spaces as `+`.
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        components.percentEncodedQuery = parameters.map { name, value in
            name + "=" + value.addingPercentEncoding(withAllowedCharacters: allowed.union(.init(charactersIn: " ")))!
                .replacingOccurrences(of: " ", with: "+")
        }.joined(separator: "&")
        var headers = ["Authorization": "Bearer \(key)"]
        if let accept { headers["Accept"] = accept }
        return try await send("GET", components.url!, headers: headers)
    }

    static func request(_ query: String, variables: [String: Any]? = nil) -> String {
        var object: [String: Any] = ["query": query]
        if let variables { object["variables"] = variables }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static func firstMessage(_ answer: HTTPAnswer) throws -> String? {
        (try answer.json()["errors"] as? [[String: Any]])?.first?["message"] as? String
    }

    @Test func getRunsQueriesAsPostDoes() async throws {
        try await withService { service, key in
            let viaGET = try await Self.get(
                service, key: key,
                [("query", Self.balance), ("variables", #"{"o":"met"}"#), ("operationName", "B"), ("extensions", "")])
            let viaPOST = try await Self.post(service, key: key, Self.request(Self.balance, variables: ["o": "met"]))
            #expect(viaGET.status == 200, "\(viaGET.text)")
            #expect(viaGET.text == viaPOST.text)
            #expect(viaGET.text == #"{"data":{"creditBalance":{"available":"0"}}}"#)
            #expect(viaGET.header("Content-Type") == "application/graphql-response+json; charset=utf-8")
            // Without Accept, the legacy media type.
            let legacy = try await Self.get(service, key: key, [("query", "{ health }")], accept: nil)
            #expect(legacy.text == #"{"data":{"health":"ok"}}"#)
            #expect(legacy.header("Content-Type") == "application/json; charset=utf-8")
        }
    }

    @Test func getRefusesMutationsWith405AndAllow() async throws {
        try await withService { service, key in
            let mutation = #"mutation { purchaseCreditPackage(input: {organisationId: "met", packageId: "p", "#
                + #"idempotencyKey: "k"}) { purchase { reference } } }"#
            for accept in [Self.graphQLResponse, "application/json"] {
                let answer = try await Self.get(service, key: key, [("query", mutation)], accept: accept)
                #expect(answer.status == 405, "\(answer.text)")
                #expect(answer.header("Allow") == "POST")
                #expect(try Self.firstMessage(answer) == "Mutations must be sent with POST.")
            }
            // The operation named decides: a document holding both runs the query.
            let both = "query Q { health } mutation M { purchaseCreditPackage(input: {organisationId: \"met\", "
                + "packageId: \"p\", idempotencyKey: \"k\"}) { purchase { reference } } }"
            let query = try await Self.get(service, key: key, [("query", both), ("operationName", "Q")])
            #expect(query.text == #"{"data":{"health":"ok"}}"#)
            let named = try await Self.get(service, key: key, [("query", both), ("operationName", "M")])
            #expect(named.status == 405)
        }
    }

    @Test func malformedGetRequestsAre422() async throws {
        try await withService { service, key in
            let noQuery = try await Self.get(service, key: key, [("variables", "{}")])
            #expect(noQuery.status == 422)
            #expect(try Self.firstMessage(noQuery) == "A GET request needs a query parameter holding the GraphQL document.")
            let badVariables = try await Self.get(service, key: key, [("query", Self.balance), ("variables", "[7]")])
            #expect(badVariables.status == 422)
            #expect(try Self.firstMessage(badVariables) == "The variables parameter must be a JSON object.")
        }
    }

    /// One row per kind of outcome: the status under `application/graphql-response+json` and under
    /// `application/json`.
    @Test func statusesFollowTheSpecForBothMediaTypes() async throws {
        try await withService { service, key in
            let cases: [(body: String, graphQLResponse: Int, json: Int, code: GraphQLErrorCode?, what: String)] = [
                ("not json", 400, 400, .badRequest, "body not JSON"),
                (#"{"qeury":"{ health }"}"#, 422, 422, .badRequest, "not a GraphQL-over-HTTP request"),
                (Self.request("{ health "), 400, 400, .parseFailed, "document does not parse"),
                (Self.request("{ healt }"), 422, 422, .validationFailed, "document fails validation"),
                (Self.request(Self.balance), 422, 422, .badUserInput, "required variable missing (coercion)"),
                (Self.request(Self.balance, variables: ["o": ["met"]]), 422, 422, .badUserInput, "variable of the wrong type"),
                (Self.request("query A { health } query B { health }"), 422, 422, .badUserInput, "operation not determined"),
                (Self.request("{ a { b { c { d { e { f { g { h { i { j { k } } } } } } } } } } }"), 422, 422, .tooDeep,
                 "a limit"),
                (Self.request(#"{ creditBalance(organisationId: "nope") { available } }"#), 294, 200, .notFound,
                 "field error"),
                (Self.request("{ health }"), 200, 200, nil, "success"),
            ]
            for row in cases {
                let modern = try await Self.post(service, key: key, row.body)
                #expect(modern.status == row.graphQLResponse, "\(row.what): \(modern.text)")
                #expect(modern.header("Content-Type") == "application/graphql-response+json; charset=utf-8")
                let errors = try modern.json()["errors"] as? [[String: Any]]
                #expect(errors?.count ?? 0 == (row.code == nil ? 0 : 1), "\(row.what): \(modern.text)")
                let code = (errors?.first?["extensions"] as? [String: Any])?["code"] as? String
                #expect(code == row.code?.rawValue, "\(row.what): \(modern.text)")
                let legacy = try await Self.post(service, key: key, row.body, accept: "application/json")
                #expect(legacy.status == row.json, "\(row.what): \(legacy.text)")
                #expect(legacy.header("Content-Type") == "application/json; charset=utf-8")
                #expect(legacy.text == modern.text, "\(row.what)")
            }
        }
    }

    @Test func acceptNegotiation() {
        let cases: [(String?, GraphQLResponseMediaType)] = [
            (nil, .json),
            ("*/*", .json),
            ("application/json", .json),
            ("application/graphql-response+json", .graphQLResponseJSON),
            ("application/graphql-response+json, application/json;q=0.9", .graphQLResponseJSON),
            ("application/json, application/graphql-response+json;q=0.9", .json),
            ("application/json;q=0.5, application/graphql-response+json", .graphQLResponseJSON),
            ("Application/GraphQL-Response+JSON ; q=1", .graphQLResponseJSON),
            ("application/graphql-response+json;q=0, application/json", .json),
            ("text/html", .json),
        ]
        for (accept, expected) in cases {
            #expect(GraphQLResponseMediaType.negotiate(accept: accept) == expected, "\(accept ?? "none")")
        }
    }
}
