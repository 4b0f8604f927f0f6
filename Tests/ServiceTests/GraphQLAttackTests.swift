import Foundation
import NIOPosix
import Synchronization
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Goal: the documents that killed or stalled `credits serve` (issue 15, D1 and D2) are refused with a
/// GraphQL error, and `/healthz` keeps answering within a second while they are sent. Method: the real
/// service over a real ledger file on loopback; a sampler requests `/healthz` with a one-second timeout
/// for as long as the attack runs. Without the pre-scan, D1 crashes the test process (stack overflow in
/// GraphQL's parser) and D2 holds an event loop for minutes; without the off-loop preparation, the
/// slow document of the budget test holds a loop for seconds.
@Suite struct GraphQLAttackTests {
    let directory = TemporaryDirectory("graphql-attack")

    static func nested(_ open: String, _ inner: String, _ close: String, _ levels: Int) -> String {
        String(repeating: open, count: levels) + inner + String(repeating: close, count: levels)
    }

    /// D1: 4,000 nested selection sets (12 KB, inside the document limit).
    static let deepSelections = "{" + nested("a{", "b", "}", 4000) + "}"
    /// D2: a list nested 56 levels where a String is expected.
    static let deepList = "{ creditBalance(organisationId: \(nested("[", "\"x\"", "]", 56))) { available } }"
    /// D2: an object literal of depth 40 where a String is expected.
    static let deepObject = "{ creditBalance(organisationId: \(nested("{a: ", "\"x\"", "}", 40))) { available } }"

    func withService(
        limits: GraphQLLimits = GraphQLLimits(), _ body: (ServiceHTTPTests.Harness, String) async throws -> Void
    ) async throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "attacker", by: .tests)
        // Loops of its own: a stall seen here is this server's, not another test's server's.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            try await LedgerBackedTests.serve(ledger, name: "graphql-attack", limits: limits, eventLoopGroup: loops) {
                service in try await body(service, key)
            }
        } catch {
            try await loops.shutdownGracefully()
            throw error
        }
        try await loops.shutdownGracefully()
    }

    /// Runs `attack` while requesting `/healthz` every 20 ms, each with a one-second timeout (a timeout
    /// throws and fails the test). Returns the attack's result and how many health answers came back.
    static func whileSamplingHealth<R: Sendable>(
        _ service: ServiceHTTPTests.Harness, _ attack: () async throws -> R
    ) async throws -> (result: R, healthAnswers: Int) {
        let attackOver = Flag()
        return try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var answers = 0
                repeat {
                    let answer = try await send("GET", service.url("healthz"), timeout: 1)
                    #expect(answer.status == 200)
                    answers += 1
                    try await Task.sleep(for: .milliseconds(20))
                } while !attackOver.value.load(ordering: .relaxed)
                return answers
            }
            let result: R
            do {
                result = try await attack()
            } catch {
                group.cancelAll()
                throw error
            }
            attackOver.value.store(true, ordering: .relaxed)
            let answers = try await group.next() ?? 0
            return (result, answers)
        }
    }

    /// Sends `query` `times` times (under the health sampler) and returns the answers.
    static func attack(_ service: ServiceHTTPTests.Harness, key: String, _ query: String, times: Int) async throws
        -> [HTTPAnswer]
    {
        let (answers, healthAnswers) = try await whileSamplingHealth(service) {
            var answers: [HTTPAnswer] = []
            for _ in 0..<times {
                answers.append(try await service.graphQL(LedgerBackedTests.query(query), key: key))
            }
            return answers
        }
        #expect(healthAnswers >= 1)
        return answers
    }

    final class Flag: Sendable {
        let value = Atomic(false)
    }

    static func expectRefused(_ answers: [HTTPAnswer], message: String) throws {
        for answer in answers {
            #expect((400..<500).contains(answer.status), "\(answer.status) \(answer.text)")
            let errors = try #require(try answer.json()["errors"] as? [[String: Any]])
            #expect(errors.first?["message"] as? String == message, "\(answer.text)")
            #expect(try answer.json()["data"] == nil)
        }
    }

    @Test func fourThousandNestedSelectionSetsAreRefusedAndTheServiceStaysUp() async throws {
        try await withService { service, key in
            let answers = try await Self.attack(service, key: key, Self.deepSelections, times: 20)
            try Self.expectRefused(
                answers, message: "The query nests braces, parentheses or brackets more than 32 deep.")
            // The service is still there and still answers real queries.
            let balance = try await service.graphQL(
                LedgerBackedTests.query(#"{ creditBalance(organisationId: "met") { available } }"#), key: key)
            #expect(balance.status == 200, "\(balance.text)")
        }
    }

    @Test func deeplyNestedValuesAreRefusedWithoutStallingOtherRoutes() async throws {
        try await withService { service, key in
            for query in [Self.deepList, Self.deepObject] {
                let answers = try await Self.attack(service, key: key, query, times: 10)
                try Self.expectRefused(answers, message: "The request nests list or object values more than 8 deep.")
            }
            // The same depth in the variables JSON is refused before decoding.
            let variables = #"{"query":"query Q($o: ID!) { creditBalance(organisationId: $o) { available } }","#
                + #""variables":{"o":\#(Self.nested("[", "\"x\"", "]", 56))}}"#
            let answer = try await service.graphQL(variables, key: key)
            try Self.expectRefused([answer], message: "The request nests list or object values more than 11 deep.")
        }
    }

    /// An unforeseen slow document (here: the value pre-scan lifted, and an object literal that takes
    /// seconds to validate) costs a preparation thread, not an event loop, and its caller gets an answer
    /// when the budget runs out.
    @Test func aDocumentSlowerThanTheBudgetIsRefusedWithoutStallingOtherRoutes() async throws {
        var limits = GraphQLLimits()
        limits.maxValueNesting = 64
        limits.preparationBudget = .milliseconds(100)
        try await withService(limits: limits) { service, key in
            // A nested object where a built-in `String` is expected (the custom scalars refuse it at once).
            let slow = "{ transactions(organisationId: \"met\", after: \(Self.nested("{a: ", "\"x\"", "}", 24))) "
                + "{ edges { cursor } } }"
            let answers = try await Self.attack(service, key: key, slow, times: 1)
            try Self.expectRefused(answers, message: "The query could not be checked within 100 ms.")
        }
    }

    /// GraphQL 4.3.0 keys its validation dictionaries by definitions hashed by identity and compared by
    /// value; 300 copies of one anonymous operation made the standard library trap and killed the process.
    /// Repeated definitions are refused before validation, with the specification's messages.
    @Test func repeatedDefinitionsAreRefusedAndTheServiceStaysUp() async throws {
        try await withService { service, key in
            let anonymous = String(repeating: "{ health } ", count: 300)
            let answers = try await Self.attack(service, key: key, anonymous, times: 3)
            try Self.expectRefused(answers, message: "This anonymous operation must be the only defined operation.")
            #expect(answers.allSatisfy { $0.status == 422 })
            let named = String(repeating: "query Q { health } ", count: 300)
            try Self.expectRefused(
                try await Self.attack(service, key: key, named, times: 1),
                message: "There can be only one operation named \"Q\".")
            let fragments = "{ ...F } " + String(repeating: "fragment F on Query { health } ", count: 200)
            try Self.expectRefused(
                try await Self.attack(service, key: key, fragments, times: 1),
                message: "There can be only one fragment named \"F\".")
            // Still up, and one anonymous operation is still answered.
            let health = try await service.graphQL(LedgerBackedTests.query("{ health }"), key: key)
            #expect(health.status == 200, "\(health.text)")
        }
    }
}
