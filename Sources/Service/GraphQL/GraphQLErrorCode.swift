import GraphQL

/// The stable, machine-readable kind of a GraphQL error, sent as `extensions.code` on every error the
/// service answers, so clients branch on the code rather than on the English message.
///
/// The request-level codes follow the names common GraphQL servers use (`GRAPHQL_PARSE_FAILED`,
/// `GRAPHQL_VALIDATION_FAILED`, `BAD_USER_INPUT`, `INTERNAL_SERVER_ERROR`); each `GraphQLLimits` limit
/// has its own code, its metrics label in capitals. docs/SERVICE.md lists them all. A mutation's expected
/// refusals are not errors but its payload's `userErrors` (`UserErrorCode`).
public enum GraphQLErrorCode: String, Sendable, CaseIterable {
    /// The body or URL is not a GraphQL-over-HTTP request.
    case badRequest = "BAD_REQUEST"
    case parseFailed = "GRAPHQL_PARSE_FAILED"
    case validationFailed = "GRAPHQL_VALIDATION_FAILED"
    /// A variable or argument value the resolver refused, or the operation to run cannot be determined.
    case badUserInput = "BAD_USER_INPUT"
    case mutationOverGET = "MUTATION_OVER_GET"
    case notFound = "NOT_FOUND"
    /// The caller's key may not run this operation (platform-admin mutations).
    case forbidden = "FORBIDDEN"
    /// A dependency (the payment provider, purchases not configured, or the ledger's database out of reach)
    /// cannot serve the request now.
    case unavailable = "UNAVAILABLE"
    case ledgerBusy = "LEDGER_BUSY"
    case internalError = "INTERNAL_SERVER_ERROR"

    case documentTooLarge = "DOCUMENT_TOO_LARGE"
    case tooDeeplyNested = "TOO_DEEPLY_NESTED"
    case valueTooDeeplyNested = "VALUE_TOO_DEEPLY_NESTED"
    case preparationOverran = "PREPARATION_OVERRAN"
    case preparationUnavailable = "PREPARATION_UNAVAILABLE"
    case tooDeep = "TOO_DEEP"
    case tooManyAliases = "TOO_MANY_ALIASES"
    case tooComplex = "TOO_COMPLEX"
    case batchTooLarge = "BATCH_TOO_LARGE"
    case emptyBatch = "EMPTY_BATCH"
    case introspectionDisabled = "INTROSPECTION_DISABLED"
    case tooManyIntrospectionLists = "TOO_MANY_INTROSPECTION_LISTS"
    case fragmentCycle = "FRAGMENT_CYCLE"

    /// `error` with `extensions.code` set to this code (other extensions kept).
    func attached(to error: GraphQLError) -> GraphQLError {
        var extensions = error.extensions
        extensions["code"] = .string(rawValue)
        return GraphQLError(message: error.message, locations: error.locations, path: error.path, extensions: extensions)
    }
}
