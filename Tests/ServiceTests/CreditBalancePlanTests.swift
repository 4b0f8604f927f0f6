import Foundation
import GraphQL
import Logging
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: the compiled balance query (`CreditBalancePlan`) answers byte for byte what GraphQL's executor
/// answers for the same request, takes every shape it claims, and leaves every other shape, and every
/// request it cannot answer exactly (errors, odd variables, another operation name), to the executor.
///
/// Each request goes to two endpoints over one ledger: the service's (with the plan) and one without
/// any compiler. The metric `credits_graphql_executions_total{path}` shows which path answered.
@Suite struct CreditBalancePlanTests {
    let directory = TemporaryDirectory("credit-balance-plan")

    struct Endpoints {
        let compiled: GraphQLEndpoint<LedgerResolver, GraphQLRequestContext>
        let executor: GraphQLEndpoint<LedgerResolver, GraphQLRequestContext>
        let metrics: MetricsRegistry

        /// Both answers (status and body) to `body` from `principal`; fails the test when they differ.
        @discardableResult
        func expectSameAnswer(
            _ body: String, principal: Principal = .organisation(id: "met"), compiled expectCompiled: Bool,
            sourceLocation: Testing.SourceLocation = #_sourceLocation
        ) async -> String {
            let before = compiledCount
            let fast = await compiled.respond(
                to: .post(body: Array(body.utf8)), mediaType: .json, principal: principal, keyID: "k", requestID: "r",
                logger: Logger(label: "test"))
            let took = compiledCount > before
            let slow = await executor.respond(
                to: .post(body: Array(body.utf8)), mediaType: .json, principal: principal, keyID: "k", requestID: "r",
                logger: Logger(label: "test"))
            let text = String(decoding: fast.body, as: UTF8.self)
            #expect(fast.status == slow.status, "\(body)", sourceLocation: sourceLocation)
            #expect(text == String(decoding: slow.body, as: UTF8.self), "\(body)", sourceLocation: sourceLocation)
            #expect(took == expectCompiled, "compiled path for \(body)", sourceLocation: sourceLocation)
            return text
        }

        var compiledCount: Int64 {
            metrics.counterValue(ServiceMetrics.graphQLExecutions, labels: [Label("path", "compiled")])
        }
    }

    /// Both endpoints over one ledger of `store` (issue 17: the compiled path reads either store).
    func withEndpoints(_ store: StoreKind, _ body: (Endpoints) async throws -> Void) async throws {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        let configuration = SampleWorld.configuration([
            SampleWorld.organisation("met", reservations: [reservation]), SampleWorld.organisation("gmp"),
        ])
        try await withLiveLedger(store, in: directory, configuration: configuration) { ledger in
            _ = try await ledger.write(as: .tests) { tx in
                try tx.grant(GrantRequest(
                    idempotencyKey: "grant", organisationID: "met", source: .topUp, credits: credits("150.5"),
                    price: Money(minorUnits: 100, currency: .gbp), effectiveAt: instant("2026-11-01T10:00:00Z")))
            }
            let now: NowProvider = { instant("2026-11-24T12:00:00Z") }
            let metrics = MetricsRegistry()
            let compiled = try LedgerSchema.endpoint(ledger: ledger, now: now, limits: GraphQLLimits(), metrics: metrics)
            let executor = GraphQLEndpoint(
                schema: try LedgerSchema.make(), resolver: LedgerResolver(ledger: ledger, now: now),
                limits: GraphQLLimits(), metrics: MetricsRegistry()
            ) { GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2) }
            try await body(Endpoints(compiled: compiled, executor: executor, metrics: metrics))
        }
    }

    static func body(_ query: String, variables: [String: Any]? = nil, operationName: String? = nil) -> String {
        var object: [String: Any] = ["query": query]
        if let variables { object["variables"] = variables }
        if let operationName { object["operationName"] = operationName }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test(arguments: StoreKind.available) func everySelectionOfTheStoredFields_answersAsTheExecutorDoes(_ store: StoreKind) async throws {
        try await withEndpoints(store) { endpoints in
            let names = CreditBalancePlan.BalanceField.allCases.map(\.rawValue)
            for mask in 1..<(1 << names.count) {
                let selected = names.indices.filter { mask & (1 << $0) != 0 }.map { names[$0] }
                let query = "query Balance($org: ID!) { creditBalance(organisationId: $org) { "
                    + selected.joined(separator: " ") + " } }"
                await endpoints.expectSameAnswer(Self.body(query, variables: ["org": "met"]), compiled: true)
            }
            let all = await endpoints.expectSameAnswer(
                Self.body("{ creditBalance(organisationId: \"met\") { " + names.joined(separator: " ") + " } }"),
                compiled: true)
            #expect(all == #"{"data":{"creditBalance":{"organisationId":"met","available":"150.5","reserved":"100","#
                + #""held":"0","spendable":"50.5","currency":"GBP","asOf":"2026-11-24T12:00:00.000Z","__typename":"CreditBalance"}}}"#)
        }
    }

    @Test(arguments: StoreKind.available) func aliasesRepeatsNamesAndAdminKeys_answerAsTheExecutorDoes(_ store: StoreKind) async throws {
        try await withEndpoints(store) { endpoints in
            let shapes = [
                "{ b: creditBalance(organisationId: \"met\") { left: spendable spendable currency spendable } }",
                "{ creditBalance(organisationId: \"met\") { available a: available available } }",
                "query Named { creditBalance(organisationId: \"met\") { __typename t: __typename } }",
            ]
            for query in shapes {
                await endpoints.expectSameAnswer(Self.body(query), compiled: true)
            }
            await endpoints.expectSameAnswer(
                Self.body("query Named { creditBalance(organisationId: \"met\") { available } }", operationName: "Named"),
                compiled: true)
            await endpoints.expectSameAnswer(
                Self.body("{ creditBalance(organisationId: \"gmp\") { available spendable } }"), principal: .platformAdmin,
                compiled: true)
            // Extra variables are ignored by both.
            await endpoints.expectSameAnswer(
                Self.body(
                    "query ($org: ID!) { creditBalance(organisationId: $org) { available } }",
                    variables: ["org": "met", "unused": 3]),
                compiled: true)
        }
    }

    @Test(arguments: StoreKind.available) func requestsThePlanCannotAnswer_goToTheExecutor(_ store: StoreKind) async throws {
        try await withEndpoints(store) { endpoints in
            let byVariable = "query Balance($org: ID!) { creditBalance(organisationId: $org) { available } }"
            // Errors are the executor's to report: another organisation's balance, an unknown one.
            await endpoints.expectSameAnswer(Self.body(byVariable, variables: ["org": "gmp"]), compiled: false)
            await endpoints.expectSameAnswer(Self.body(byVariable, variables: ["org": "nope"]), principal: .platformAdmin, compiled: false)
            // Variables of the wrong shape, or missing.
            await endpoints.expectSameAnswer(Self.body(byVariable, variables: ["org": 7]), compiled: false)
            await endpoints.expectSameAnswer(Self.body(byVariable, variables: ["org": NSNull()]), compiled: false)
            await endpoints.expectSameAnswer(Self.body(byVariable), compiled: false)
            // Another operation name than the document's.
            await endpoints.expectSameAnswer(Self.body(byVariable, variables: ["org": "met"], operationName: "Other"), compiled: false)
        }
    }

    @Test(arguments: StoreKind.available) func otherShapes_areNotCompiled(_ store: StoreKind) async throws {
        try await withEndpoints(store) { endpoints in
            let shapes = [
                // runwayDays is a scan resolved on demand.
                "{ creditBalance(organisationId: \"met\") { available runwayDays } }",
                "{ creditBalance(organisationId: \"met\") { ...Parts } } fragment Parts on CreditBalance { available }",
                "{ creditBalance(organisationId: \"met\") { ... on CreditBalance { available } } }",
                "{ creditBalance(organisationId: \"met\") { available @include(if: true) } }",
                "{ creditBalance(organisationId: \"met\") @skip(if: false) { available } }",
                "{ creditBalance(organisationId: \"met\") { available } health }",
                "{ __typename creditBalance(organisationId: \"met\") { available } }",
                "query ($org: ID! = \"met\") { creditBalance(organisationId: $org) { available } }",
                "query A { creditBalance(organisationId: \"met\") { available } } query B { health }",
            ]
            for query in shapes {
                let document = try GraphQL.parse(source: Source(body: query))
                #expect(CreditBalancePlan.compile(document) == nil, "\(query)")
            }
            await endpoints.expectSameAnswer(Self.body(shapes[0]), compiled: false)
            await endpoints.expectSameAnswer(Self.body(shapes[3]), compiled: false)
            await endpoints.expectSameAnswer(Self.body(shapes[8], operationName: "A"), compiled: false)
        }
    }

    @Test(arguments: StoreKind.available) func batches_mixBothPathsInOrder(_ store: StoreKind) async throws {
        try await withEndpoints(store) { endpoints in
            let balance = Self.body("{ creditBalance(organisationId: \"met\") { available } }")
            let other = Self.body("{ health }")
            let refused = Self.body("{ creditBalance(organisationId: \"gmp\") { available } }")
            let text = await endpoints.expectSameAnswer("[\(balance), \(other), \(refused), \(balance)]", compiled: true)
            #expect(text.hasPrefix(#"[{"data":{"creditBalance":{"available":"150.5"}}},{"data":{"health":"ok"}},"#))
            #expect(endpoints.compiledCount == 2)
        }
    }

    @Test func responseStrings_areEscapedAsGraphQLJSONEncoderEscapesThem() throws {
        let samples = [
            "plain", "quote\" backslash\\ slash/", "tab\t newline\n return\r feed\u{0C} back\u{08}",
            String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7F}",
            "Straße, 東京, emoji 🧾, combining e\u{301}", "",
        ]
        let encoder = GraphQLJSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]  // as GraphQLEndpoint encodes
        for sample in samples {
            var writer = GraphQLResponseWriter()
            writer.beginObject()
            writer.key(sample, first: true)
            writer.string(sample)
            writer.endObject()
            let expected = try encoder.encode([sample: sample])
            #expect(writer.bytes == Array(expected), "\(sample.debugDescription)")
        }
    }
}
