import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: with introspection on, the standard introspection query that graphql-core, graphql-js and
/// GraphiQL send passes, while introspection stays bounded (its own depth and list nesting) and real
/// queries keep their depth and complexity limits; a full page (`first: 100`) with every field passes
/// (issue 16). Method: the real service over a real ledger file on loopback.
@Suite struct GraphQLIntrospectionTests {
    let directory = TemporaryDirectory("graphql-introspection")

    /// `graphql.get_introspection_query(descriptions=True)` of graphql-core 3.2.8, whitespace folded.
    static let standardIntrospectionQuery = """
        query IntrospectionQuery { __schema { queryType { name } mutationType { name }
        subscriptionType { name } types { ...FullType } directives { name description locations
        args { ...InputValue } } } } fragment FullType on __Type { kind name description
        fields(includeDeprecated: true) { name description args { ...InputValue } type {
        ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces {
        ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated
        deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue {
        name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind
        name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType
        { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        } } } } } } } } } }
        """

    func withService(introspection: Bool, _ body: (ServiceHTTPTests.Harness, String) async throws -> Void)
        async throws
    {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "client", by: .tests)
        var limits = GraphQLLimits()
        limits.introspectionEnabled = introspection
        try await LedgerBackedTests.serve(ledger, name: "graphql-introspection", limits: limits) { service in
            try await body(service, key)
        }
    }

    static func firstMessage(_ answer: HTTPAnswer) throws -> String? {
        (try answer.json()["errors"] as? [[String: Any]])?.first?["message"] as? String
    }

    @Test func theStandardIntrospectionQueryPassesWhenIntrospectionIsOn() async throws {
        try await withService(introspection: true) { service, key in
            let answer = try await service.graphQL(LedgerBackedTests.query(Self.standardIntrospectionQuery), key: key)
            #expect(answer.status == 200, "\(answer.text.prefix(300))")
            let data = try #require(try answer.json()["data"] as? [String: Any])
            let schema = try #require(data["__schema"] as? [String: Any])
            #expect((schema["queryType"] as? [String: Any])?["name"] as? String == "Query")
            let types = try #require(schema["types"] as? [[String: Any]])
            #expect(types.contains { $0["name"] as? String == "Transaction" })
        }
        try await withService(introspection: false) { service, key in
            let answer = try await service.graphQL(LedgerBackedTests.query(Self.standardIntrospectionQuery), key: key)
            #expect(answer.status == 422)
            #expect(try Self.firstMessage(answer) == "Introspection is disabled.")
        }
    }

    /// Every type, field, argument and enum value of the schema says what it is.
    @Test func everyTypeFieldArgumentAndEnumValueIsDescribed() async throws {
        try await withService(introspection: true) { service, key in
            let query = "{ __schema { types { name description fields { name description args { name description } } "
                + "enumValues { name description } } } }"
            let answer = try await service.graphQL(LedgerBackedTests.query(query), key: key)
            let data = try #require(try answer.json()["data"] as? [String: Any], "\(answer.text)")
            let types = try #require((data["__schema"] as? [String: Any])?["types"] as? [[String: Any]])
            var undescribed: [String] = []
            func check(_ item: [String: Any], _ path: String) {
                if (item["description"] as? String ?? "").isEmpty { undescribed.append(path) }
            }
            for type in types {
                let name = type["name"] as? String ?? "?"
                if name.hasPrefix("__") { continue }
                check(type, name)
                for field in type["fields"] as? [[String: Any]] ?? [] {
                    let fieldPath = "\(name).\(field["name"] as? String ?? "?")"
                    check(field, fieldPath)
                    for argument in field["args"] as? [[String: Any]] ?? [] {
                        check(argument, "\(fieldPath)(\(argument["name"] as? String ?? "?"))")
                    }
                }
                for value in type["enumValues"] as? [[String: Any]] ?? [] {
                    check(value, "\(name).\(value["name"] as? String ?? "?")")
                }
            }
            #expect(types.count > 15)
            #expect(undescribed.isEmpty, "\(undescribed)")
        }
    }

    @Test func introspectionStaysBounded() async throws {
        try await withService(introspection: true) { service, key in
            // Four nested list fields multiply the answer by the schema's size four times.
            let lists = "{ __schema { types { fields { type { fields { args { name } } } } } } }"
            let refused = try await service.graphQL(LedgerBackedTests.query(lists), key: key)
            #expect(refused.status == 422)
            #expect(try Self.firstMessage(refused) == "The introspection query nests more than 3 list fields.")
            // `ofType` 16 levels under `__type` passes; 17 are refused.
            func ofType(_ levels: Int) -> String {
                "{ __type(name: \"Query\") { " + String(repeating: "ofType { ", count: levels - 1) + "name"
                    + String(repeating: " }", count: levels - 1) + " } }"
            }
            #expect(try await service.graphQL(LedgerBackedTests.query(ofType(16)), key: key).status == 200)
            let deep = try await service.graphQL(LedgerBackedTests.query(ofType(17)), key: key)
            #expect(try Self.firstMessage(deep) == "The query exceeds the maximum depth of 16.")
        }
    }

    @Test func aFullPageWithEveryFieldPassesAndComplexityStillBinds() async throws {
        try await withService(introspection: false) { service, key in
            let transaction = "id kind credits money { minorUnits currency } effectiveAt costEventId revolutOrderId team "
                + "investigation operation memo"
            let page = "{ transactions(organisationId: \"met\", first: 100) { edges { cursor node { \(transaction) } } "
                + "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
            let answer = try await service.graphQL(LedgerBackedTests.query(page), key: key)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(try answer.json()["errors"] == nil, "\(answer.text)")
            let change = "id changedAt actor subject reservationId "
                + "oldValue { credits maxPriority lowBalanceCredits lowBalancePercent runwayDays } "
                + "newValue { credits maxPriority lowBalanceCredits lowBalancePercent runwayDays }"
            let changes = "{ organisation(organisationId: \"met\") { configurationChanges(first: 100) { "
                + "edges { cursor node { \(change) } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"
            let trail = try await service.graphQL(LedgerBackedTests.query(changes), key: key)
            #expect(trail.status == 200, "\(trail.text)")
            #expect(try trail.json()["errors"] == nil, "\(trail.text)")
            // Two full pages in one document are over the limit.
            let both = "{ a: " + page.dropFirst(2).dropLast(2) + " b: " + page.dropFirst(2).dropLast(2) + " }"
            let refused = try await service.graphQL(LedgerBackedTests.query(String(both)), key: key)
            #expect(refused.status == 422, "\(refused.text)")
            #expect(try Self.firstMessage(refused) == "The query exceeds the maximum complexity of 2500.")
        }
    }
}
