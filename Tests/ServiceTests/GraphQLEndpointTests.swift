import Foundation
import Graphiti
import Ledger
import Synchronization
import Testing

@testable import Service

/// GraphQL hardening over HTTP: every limit refuses before any resolver runs; the document cache is used.
@Suite struct GraphQLEndpointTests {
    /// A resolver that counts how often it runs, so tests can prove a refusal happened before execution.
    final class CountingResolver: Sendable {
        private let calls = Mutex(0)
        var executions: Int { calls.withLock { $0 } }

        func health(context: GraphQLRequestContext, arguments: NoArguments) -> String {
            calls.withLock { $0 += 1 }
            return "ok"
        }

        func whoami(context: GraphQLRequestContext, arguments: NoArguments) -> String {
            calls.withLock { $0 += 1 }
            switch context.principal {
            case .platformAdmin: return "admin"
            case .organisation(let id): return id
            }
        }

        func boom(context: GraphQLRequestContext, arguments: NoArguments) throws -> String {
            calls.withLock { $0 += 1 }
            throw InternalFailure(path: "/var/lib/credits/ledger.sqlite", code: 11)
        }

        func refuse(context: GraphQLRequestContext, arguments: NoArguments) throws -> String {
            throw GraphQLClientError("Organisation not found.")
        }
    }

    struct InternalFailure: Error {
        let path: String
        let code: Int
    }

    static func endpoint(limits: GraphQLLimits = GraphQLLimits(), resolver: CountingResolver) throws
        -> GraphQLEndpoint<CountingResolver, GraphQLRequestContext>
    {
        let schema = try Schema<CountingResolver, GraphQLRequestContext> {
            Query {
                Field("health", at: CountingResolver.health)
                Field("whoami", at: CountingResolver.whoami)
                Field("boom", at: CountingResolver.boom)
                Field("refuse", at: CountingResolver.refuse)
            }
        }
        return GraphQLEndpoint(schema: schema, resolver: resolver, limits: limits, metrics: MetricsRegistry()) {
            GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2)
        }
    }

    static func request(_ query: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: ["query": query])
        return String(decoding: data, as: UTF8.self)
    }

    /// Posts `query` and expects a 400 naming `message`, with the resolver never called.
    static func expectRefused(
        _ query: String, message: String, limits: GraphQLLimits = GraphQLLimits(), batch: Bool = false
    ) async throws {
        let resolver = CountingResolver()
        let endpoint = try endpoint(limits: limits, resolver: resolver)
        try await ServiceHTTPTests.withService(graphQL: endpoint) { service in
            let answer = try await service.graphQL(batch ? query : request(query))
            #expect(answer.status == 422, "\(answer.text)")
            let errors = try #require(try answer.json()["errors"] as? [[String: Any]])
            #expect(errors.first?["message"] as? String == message, "\(answer.text)")
            #expect(resolver.executions == 0)
        }
    }

    @Test func testQueryTwentyLevelsDeepIsRefused() async throws {
        let deep = String(repeating: "a { ", count: 20) + "health" + String(repeating: " }", count: 20)
        try await Self.expectRefused("{ \(deep) }", message: "The query exceeds the maximum depth of 10.")
    }

    @Test func testAThousandAliasesAreRefused() async throws {
        let aliases = (1...1000).map { "a\($0): health" }.joined(separator: " ")
        try await Self.expectRefused("{ \(aliases) }", message: "The query uses more than 15 aliases.")
    }

    @Test func testValidButTooComplexQueryIsRefused() async throws {
        var limits = GraphQLLimits()
        limits.maxComplexity = 5
        let query = "{ a: health b: health c: health d: health e: health f: health }"
        try await Self.expectRefused(query, message: "The query exceeds the maximum complexity of 5.", limits: limits)
    }

    @Test func testHugePageSizeIsRefusedAsTooComplex() async throws {
        try await Self.expectRefused(
            "{ health(first: 99999999) }", message: "The query exceeds the maximum complexity of 2500.")
    }

    @Test func testIntrospectionIsDisabledByDefault() async throws {
        try await Self.expectRefused("{ __schema { types { name } } }", message: "Introspection is disabled.")
        try await Self.expectRefused(#"{ __type(name: "Query") { name } }"#, message: "Introspection is disabled.")
    }

    @Test func testIntrospectionCanBeEnabled() async throws {
        var limits = GraphQLLimits()
        limits.introspectionEnabled = true
        let endpoint = try Self.endpoint(limits: limits, resolver: CountingResolver())
        try await ServiceHTTPTests.withService(graphQL: endpoint) { service in
            let answer = try await service.graphQL(Self.request(#"{ __type(name: "Query") { name } }"#))
            #expect(answer.text == #"{"data":{"__type":{"name":"Query"}}}"#)
        }
    }

    @Test func testFragmentCycleIsRefused() async throws {
        let query = "{ ...A } fragment A on Query { health ...B } fragment B on Query { ...A }"
        try await Self.expectRefused(query, message: "The query contains a fragment cycle.")
    }

    @Test func testOversizedDocumentIsRefused() async throws {
        let padding = String(repeating: " ", count: 17_000)
        try await Self.expectRefused("{ health \(padding)}", message: "The query document exceeds 16384 bytes.")
    }

    @Test func testBatchOfElevenIsRefusedAndABatchOfTwoRuns() async throws {
        let one = Self.request("{ health }")
        let eleven = "[" + Array(repeating: one, count: 11).joined(separator: ",") + "]"
        try await Self.expectRefused(eleven, message: "A batch may hold at most 10 operations.", batch: true)
        try await Self.expectRefused("[]", message: "A batch must hold at least one operation.", batch: true)

        let resolver = CountingResolver()
        try await ServiceHTTPTests.withService(graphQL: try Self.endpoint(resolver: resolver)) { service in
            let answer = try await service.graphQL("[\(one),\(Self.request("{ whoami }"))]")
            #expect(answer.status == 200)
            #expect(answer.text == #"[{"data":{"health":"ok"}},{"data":{"whoami":"org_acme"}}]"#)
            #expect(resolver.executions == 2)
        }
    }

    @Test func testBatchWithOneBadOperationRunsNothing() async throws {
        let batch = "[\(Self.request("{ health }")),\(Self.request("{ __schema { types { name } } }"))]"
        try await Self.expectRefused(batch, message: "Introspection is disabled.", batch: true)
    }

    @Test func testSyntaxAndValidationErrorsGiveNoSuggestions() async throws {
        let resolver = CountingResolver()
        try await ServiceHTTPTests.withService(graphQL: try Self.endpoint(resolver: resolver)) { service in
            let syntax = try await service.graphQL(Self.request("{ health "))
            #expect(syntax.status == 400)
            let unknown = try await service.graphQL(Self.request("{ healt }"))
            #expect(unknown.status == 422)
            #expect(unknown.text.contains("healt"))
            #expect(!unknown.text.contains("Did you mean"))
            let notJSON = try await service.graphQL("query=%7B%20health%20%7D")
            #expect(notJSON.status == 400)
            #expect(resolver.executions == 0)
        }
    }

    @Test func testResolverErrorsCarryNoInternals() async throws {
        let resolver = CountingResolver()
        try await ServiceHTTPTests.withService(graphQL: try Self.endpoint(resolver: resolver)) { service in
            let answer = try await service.graphQL(Self.request("{ boom }"))
            #expect(answer.status == 200)
            #expect(answer.text.contains("Internal error."))
            #expect(answer.text.contains(#""extensions":{"code":"INTERNAL_SERVER_ERROR"}"#))
            #expect(!answer.text.contains("/var/lib"))
            #expect(!answer.text.contains("InternalFailure"))
            let refused = try await service.graphQL(Self.request("{ refuse }"))
            #expect(refused.text.contains("Organisation not found."))
        }
    }

    @Test func testRepeatedQueryHitsTheDocumentCache() async throws {
        let resolver = CountingResolver()
        let endpoint = try Self.endpoint(resolver: resolver)
        try await ServiceHTTPTests.withService(graphQL: endpoint) { service in
            for _ in 0..<3 {
                let answer = try await service.graphQL(Self.request("{ health }"))
                #expect(answer.text == #"{"data":{"health":"ok"}}"#)
            }
            let statistics = endpoint.documentCache.statistics
            #expect(statistics.misses == 1)
            #expect(statistics.hits == 2)
            #expect(statistics.count == 1)
            #expect(resolver.executions == 3)
        }
    }

    @Test func testCacheIsBoundedAndKeepsOnlyValidDocuments() throws {
        let cache = GraphQLDocumentCache(capacity: 2)
        let document = try GraphQLDocumentCacheTestSupport.parse("{ health }")
        let entry = GraphQLDocumentCache.Entry(document: document, analysis: GraphQLDocumentAnalysis())
        cache.insert(entry, for: "a")
        cache.insert(entry, for: "b")
        cache.insert(entry, for: "c")
        #expect(cache.statistics.count == 2)
        #expect(cache.lookup("a") == nil)
        #expect(cache.lookup("c") != nil)
    }
}
