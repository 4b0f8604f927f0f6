import Foundation
import Testing

@testable import Service

/// Goal: the linear pre-scan (`GraphQLNestingScan`) accepts a document or body at each nesting limit and
/// refuses it one level past, counting only real brackets (not those in strings, block strings or
/// comments), before GraphQL's recursive parser or validation sees it (issue 15, D1 and D2).
@Suite struct GraphQLNestingScanTests {
    static let limits = GraphQLLimits()

    static func scan(_ document: String) throws(GraphQLLimitViolation) {
        try GraphQLNestingScan.check(
            document: document, maxNesting: limits.maxNesting, maxValueNesting: limits.maxValueNesting)
    }

    static func nested(_ open: String, _ inner: String, _ close: String, _ levels: Int) -> String {
        String(repeating: open, count: levels) + inner + String(repeating: close, count: levels)
    }

    @Test func selectionSetsAtTheLimitPassAndOnePastIsRefused() throws {
        let limit = Self.limits.maxNesting
        try Self.scan(Self.nested("a {", "b", "}", limit))
        #expect(throws: GraphQLLimitViolation.tooDeeplyNested(limit: limit)) {
            try Self.scan(Self.nested("a {", "b", "}", limit + 1))
        }
        // Parentheses and brackets count towards the same limit.
        let mixed = Self.nested("a {", "f(x: [1])", "}", limit - 2)
        try Self.scan(mixed)
        #expect(throws: GraphQLLimitViolation.tooDeeplyNested(limit: limit)) {
            try Self.scan("{" + mixed + "}")
        }
    }

    @Test func listAndObjectValuesAtTheLimitPassAndOnePastIsRefused() throws {
        let limit = Self.limits.maxValueNesting
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            try Self.scan("{ f(x: \(Self.nested(open, "\"x\"", close, limit))) { g } }")
            #expect(throws: GraphQLLimitViolation.valueTooDeeplyNested(limit: limit)) {
                try Self.scan("{ f(x: \(Self.nested(open, "\"x\"", close, limit + 1))) { g } }")
            }
        }
        // Variable types and default values are values too; directive arguments as well.
        try Self.scan("query Q($v: \(Self.nested("[", "Int", "]", limit))) { f }")
        #expect(throws: GraphQLLimitViolation.valueTooDeeplyNested(limit: limit)) {
            try Self.scan("query Q($v: [Int] = \(Self.nested("[", "1", "]", limit + 1))) { f }")
        }
        #expect(throws: GraphQLLimitViolation.valueTooDeeplyNested(limit: limit)) {
            try Self.scan("{ f @skip(if: \(Self.nested("{a: ", "true", "}", limit + 1))) }")
        }
    }

    @Test func bracketsInStringsBlockStringsAndCommentsDoNotCount() throws {
        let brackets = String(repeating: "{[(", count: 100)
        try Self.scan("{ f(x: \"\(brackets) \\\" \(brackets)\") { g } }")
        try Self.scan("{ f(x: \"\"\"\(brackets) \\\"\"\" \"\" \(brackets)\"\"\") { g } }")
        try Self.scan("# \(brackets)\r{ f # \(brackets)\n }")
        // An escaped quote does not end a string, so what follows it is still inside.
        try Self.scan("{ f(x: \"\\\"\(brackets)\") }")
    }

    @Test func theIssueDocumentsAreRefused() {
        #expect(throws: GraphQLLimitViolation.tooDeeplyNested(limit: Self.limits.maxNesting)) {
            try Self.scan("{" + Self.nested("a{", "b", "}", 4000) + "}")
        }
        #expect(throws: GraphQLLimitViolation.valueTooDeeplyNested(limit: Self.limits.maxValueNesting)) {
            try Self.scan("{ creditBalance(organisationId: \(Self.nested("[", "\"x\"", "]", 56))) { available } }")
        }
    }

    @Test func jsonAtTheLimitPassesAndOnePastIsRefused() throws {
        let limit = Self.limits.maxValueNesting + 3
        let atLimit = "[{\"variables\": {\"v\": \(Self.nested("[", "1", "]", limit - 3))}}]"
        try GraphQLNestingScan.check(json: Array(atLimit.utf8), maxNesting: limit)
        let pastLimit = "[{\"variables\": {\"v\": \(Self.nested("{\"a\":", "1", "}", limit - 2))}}]"
        #expect(throws: GraphQLLimitViolation.valueTooDeeplyNested(limit: limit)) {
            try GraphQLNestingScan.check(json: Array(pastLimit.utf8), maxNesting: limit)
        }
        let inStrings = "{\"query\": \"\\\" \(String(repeating: "[{", count: 50))\"}"
        try GraphQLNestingScan.check(json: Array(inStrings.utf8), maxNesting: limit)
    }
}
