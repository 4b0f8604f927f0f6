import GraphQL

/// Kept apart because GraphQL's AST names (`Field`, `Argument`) clash with Graphiti's in one file.
enum GraphQLDocumentCacheTestSupport {
    static func parse(_ query: String) throws -> Document {
        try GraphQL.parse(source: query)
    }
}
