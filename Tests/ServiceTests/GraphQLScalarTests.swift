import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: the schema's custom scalars are strict at every door (document literals, variables) and say why
/// they refuse: `Credits` is an exact decimal within the ledger's transfer limit and never a float,
/// `DateTime` is RFC 3339 with an offset and answered in UTC, `MinorUnits` is a whole number, `ID` takes
/// a string or an integer; `DateTime` names its specification. Over a real server and ledger file.
@Suite struct GraphQLScalarTests {
    let world = LedgerBackedTests()

    static let allocate = "mutation A($input: CreditPostingInput!) { allocateCredits(input: $input) "
        + "{ transaction { credits money { minorUnits currency } } userErrors { code } } }"

    /// A request body: `query` with `variables` (JSON text, sent as written).
    static func body(_ query: String, variables: String) -> String {
        let variables = try! JSONSerialization.jsonObject(with: Data(variables.utf8))
        return String(
            decoding: try! JSONSerialization.data(withJSONObject: ["query": query, "variables": variables]), as: UTF8.self)
    }

    static func errors(_ answer: HTTPAnswer) throws -> [(message: String, code: String?)] {
        (try answer.json()["errors"] as? [[String: Any]] ?? []).map {
            ($0["message"] as? String ?? "", ($0["extensions"] as? [String: Any])?["code"] as? String)
        }
    }

    @Test(arguments: StoreKind.available) func creditsAreExactWithinTheLedgersLimitAndNeverFloats(_ store: StoreKind) async throws {
        try await world.withLedgerService(store) { service, keys in
            func allocate(_ credits: String, key: String) async throws -> HTTPAnswer {
                try await service.graphQL(Self.body(Self.allocate, variables:
                    #"{"input":{"organisationId":"met","credits":\#(credits),"idempotencyKey":"\#(key)","memo":"test"}}"#),
                    key: keys.admin)
            }
            // Exact: six decimal places and the limit itself pass; a JSON integer is read as its digits.
            let exact = try await allocate(#""0.000001""#, key: "k1")
            #expect(exact.text.contains(#""credits":"0.000001""#), "\(exact.text)")
            let limit = try await allocate(#""1000000000""#, key: "k2")
            #expect(limit.text.contains(#""credits":"1000000000""#), "\(limit.text)")
            let integer = try await allocate("7", key: "k3")
            #expect(integer.text.contains(#""credits":"7""#), "\(integer.text)")

            // Refused while coercing the variable, before any resolver runs, with the scalar's reason and
            // the path to the value: nothing is posted.
            for (refused, reason) in [
                ("1.5", "expected a string, not a fractional or inexact number."),
                (#""1000000000.000001""#, "1000000000.000001 is beyond 1000000000 credits, the ledger's limit."),
                (#""-1000000001""#, "-1000000001 is beyond 1000000000 credits, the ledger's limit."),
                (#""0.0000001""#, "0.0000001: more than 6 decimal places."),
                (#""12 credits""#, "12 credits: expected an exact decimal number such as 12 or 12.5."),
            ] {
                let answer = try await allocate(refused, key: "bad")
                #expect(try answer.json()["data"] == nil, "\(refused): \(answer.text)")
                let errors = try Self.errors(answer)
                #expect(errors.map(\.code) == ["BAD_USER_INPUT"], "\(refused): \(answer.text)")
                #expect(errors.map(\.message) == ["Variable \"$input\" at \"credits\": Credits: \(reason)"],
                        "\(refused): \(answer.text)")
            }
            // A literal is checked while validating the document, with the scalar's own reason.
            let literal = try await service.graphQL(LedgerBackedTests.query(
                #"mutation { allocateCredits(input: {organisationId: "met", credits: "1000000000.5", "#
                    + #"idempotencyKey: "lit"}) { userErrors { code } } }"#), key: keys.admin)
            #expect(try Self.errors(literal).map(\.message)
                == ["Credits: 1000000000.5 is beyond 1000000000 credits, the ledger's limit."], "\(literal.text)")
            #expect(try Self.errors(literal).map(\.code) == ["GRAPHQL_VALIDATION_FAILED"])
            let located = try #require((try literal.json()["errors"] as? [[String: Any]])?.first?["locations"] as? [[String: Int]])
            #expect(located == [["line": 1, "column": 68]], "\(literal.text)")
            let tooFine = try await service.graphQL(LedgerBackedTests.query(
                #"mutation { allocateCredits(input: {organisationId: "met", credits: "1.1234567", "#
                    + #"idempotencyKey: "lit"}) { userErrors { code } } }"#), key: keys.admin)
            #expect(try Self.errors(tooFine).map(\.message) == ["Credits: 1.1234567: more than 6 decimal places."])
            let float = try await service.graphQL(LedgerBackedTests.query(
                #"mutation { allocateCredits(input: {organisationId: "met", credits: 2.5, "#
                    + #"idempotencyKey: "lit"}) { userErrors { code } } }"#), key: keys.admin)
            #expect(try Self.errors(float).map(\.message) == ["Credits: expected a string."], "\(float.text)")

            let balance = try await service.graphQL(
                LedgerBackedTests.query(#"{ creditBalance(organisationId: "met") { available } }"#), key: keys.met)
            #expect(balance.text == #"{"data":{"creditBalance":{"available":"1000000157.000001"}}}"#)
        }
    }

    @Test(arguments: StoreKind.available) func minorUnitsAreWholeNumbers(_ store: StoreKind) async throws {
        try await world.withLedgerService(store) { service, keys in
            let integer = try await service.graphQL(Self.body(Self.allocate, variables:
                #"{"input":{"organisationId":"met","credits":"1","idempotencyKey":"m1","priceMinorUnits":450,"memo":"test"}}"#),
                key: keys.admin)
            #expect(integer.text.contains(#""money":{"minorUnits":"450","currency":"GBP"}"#), "\(integer.text)")
            for refused in [#""4.50""#, #""450p""#, "4.5", #""99999999999999999999""#] {
                let answer = try await service.graphQL(Self.body(Self.allocate, variables:
                    #"{"input":{"organisationId":"met","credits":"1","idempotencyKey":"m2","priceMinorUnits":\#(refused)}}"#),
                    key: keys.admin)
                let errors = try Self.errors(answer)
                #expect(errors.map(\.code) == ["BAD_USER_INPUT"], "\(refused): \(answer.text)")
                #expect(errors.first?.message.hasPrefix("Variable \"$input\" at \"priceMinorUnits\": MinorUnits: ") == true,
                        "\(refused): \(answer.text)")
            }
        }
    }

    @Test(arguments: StoreKind.available) func dateTimesNeedAnOffsetAndAreAnsweredInUTC(_ store: StoreKind) async throws {
        try await world.withLedgerService(store) { service, keys in
            let time = try await service.graphQL(LedgerBackedTests.query("{ serverTime }"), key: keys.met)
            #expect(time.text == #"{"data":{"serverTime":"2026-11-24T12:00:00.000Z"}}"#)
            // 01:00 at +01:00 is midnight UTC: the same window as the Z form.
            let shifted = try await service.graphQL(LedgerBackedTests.query(
                #"{ transactions(organisationId: "met", from: "2026-11-02T01:00:00+01:00", "#
                    + #"to: "2026-11-03T00:00:00Z") { edges { node { credits effectiveAt } } } }"#), key: keys.met)
            #expect(shifted.text == #"{"data":{"transactions":{"edges":[{"node":{"credits":"60","#
                + #""effectiveAt":"2026-11-02T10:00:00.000Z"}}]}}}"#)
            let local = try await service.graphQL(LedgerBackedTests.query(
                #"{ transactions(organisationId: "met", from: "2026-11-02T00:00:00") { edges { cursor } } }"#),
                key: keys.met)
            #expect(try Self.errors(local).map(\.message)
                == ["DateTime: 2026-11-02T00:00:00 is not an RFC 3339 date-time: an offset (Z or +hh:mm) is required."],
                "\(local.text)")
            // The same reason for a variable.
            let listed = try await service.graphQL(Self.body(
                "query T($from: DateTime, $kinds: [TransactionKind!]) { transactions(organisationId: \"met\", "
                    + "from: $from, kinds: $kinds) { edges { cursor } } }",
                variables: #"{"from":"2026-11-02T00:00:00"}"#), key: keys.met)
            #expect(try Self.errors(listed).map(\.message) == [
                "Variable \"$from\": DateTime: 2026-11-02T00:00:00 is not an RFC 3339 date-time: "
                    + "an offset (Z or +hh:mm) is required.",
            ], "\(listed.text)")
        }
    }

    @Test(arguments: StoreKind.available) func identifiersTakeStringsOrIntegers(_ store: StoreKind) async throws {
        try await world.withLedgerService(store) { service, keys in
            let number = try await service.graphQL(
                LedgerBackedTests.query("{ creditBalance(organisationId: 42) { available } }"), key: keys.admin)
            #expect(try Self.errors(number).map(\.message) == ["Organisation not found."], "\(number.text)")
            let variable = try await service.graphQL(Self.body(
                "query B($org: ID!) { creditBalance(organisationId: $org) { organisationId available } }",
                variables: #"{"org":"met"}"#), key: keys.met)
            #expect(variable.text == #"{"data":{"creditBalance":{"organisationId":"met","available":"150"}}}"#)
        }
    }

    @Test func dateTimeNamesItsSpecification() async throws {
        let directory = TemporaryDirectory("graphql-scalars")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "client", by: .tests)
        var limits = GraphQLLimits()
        limits.introspectionEnabled = true
        try await LedgerBackedTests.serve(ledger, name: "graphql-scalars", limits: limits) { service in
            let answer = try await service.graphQL(LedgerBackedTests.query(
                #"{ dateTime: __type(name: "DateTime") { kind specifiedByURL } "#
                    + #"credits: __type(name: "Credits") { kind } minor: __type(name: "MinorUnits") { kind } }"#),
                key: key)
            #expect(answer.text == #"{"data":{"dateTime":{"kind":"SCALAR","#
                + #""specifiedByURL":"https://scalars.graphql.org/andimarek/date-time"},"#
                + #""credits":{"kind":"SCALAR"},"minor":{"kind":"SCALAR"}}}"#)
        }
    }
}
