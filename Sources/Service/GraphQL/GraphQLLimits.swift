import GraphQL

/// Hardening limits for `POST /graphql`, all checked before anything executes.
public struct GraphQLLimits: Sendable {
    /// Largest accepted query text, in UTF-8 bytes (checked before parsing).
    public var maxDocumentBytes = 16_384
    /// Deepest nesting of `{`, `(` and `[` in the query text, checked by a linear scan before parsing
    /// (`GraphQLNestingScan`): GraphQL's parser recurses once per level, so depth costs stack.
    public var maxNesting = 32
    /// Deepest nesting of list and object values in the query text (brackets opened inside an argument
    /// or variable-definition list), and of the request body's JSON beyond its request object and
    /// `variables` object (plus the batch array). Validation prints a wrongly typed nested value twice
    /// per level, so its cost doubles with each level.
    public var maxValueNesting = 8
    /// Longest a caller waits for one document's parsing and validation, which run off the event loop
    /// (`GraphQLPreparationPool`). Past it the request is refused and no route has waited for it.
    public var preparationBudget: Duration = .seconds(2)
    /// Deepest field nesting, counting fragments' fields where they are spread.
    public var maxDepth = 10
    /// Most aliased fields in one document (alias batching multiplies work).
    public var maxAliases = 15
    /// Highest complexity estimate of one document, and of the sum over a batch (see `GraphQLDocumentAnalysis`).
    public var maxComplexity = 1_000
    /// Most operations in one batched (JSON array) request.
    public var maxBatchSize = 10
    /// The page size assumed for a `first`/`last`/`limit` argument given as a variable.
    public var assumedPageSize = 100
    /// Whether `__schema` and `__type` may be queried. Off in production.
    public var introspectionEnabled = false
    /// Parsed-and-validated documents kept in the cache.
    public var maxCachedDocuments = 512

    public init() {}
}

/// Why a GraphQL request was refused before execution. Messages are generic on purpose: they name the limit,
/// never the schema.
public enum GraphQLLimitViolation: Error, Sendable, Equatable, CustomStringConvertible {
    case documentTooLarge(limit: Int)
    case tooDeeplyNested(limit: Int)
    case valueTooDeeplyNested(limit: Int)
    case preparationOverran(budget: Duration)
    case preparationUnavailable
    case tooDeep(limit: Int)
    case tooManyAliases(limit: Int)
    case tooComplex(limit: Int)
    case batchTooLarge(limit: Int)
    case emptyBatch
    case introspectionDisabled
    case fragmentCycle

    public var description: String {
        switch self {
        case .documentTooLarge(let limit): "The query document exceeds \(limit) bytes."
        case .tooDeeplyNested(let limit): "The query nests braces, parentheses or brackets more than \(limit) deep."
        case .valueTooDeeplyNested(let limit): "The request nests list or object values more than \(limit) deep."
        case .preparationOverran(let budget): "The query could not be checked within \(Self.milliseconds(budget)) ms."
        case .preparationUnavailable: "The service is busy checking other queries; retry shortly."
        case .tooDeep(let limit): "The query exceeds the maximum depth of \(limit)."
        case .tooManyAliases(let limit): "The query uses more than \(limit) aliases."
        case .tooComplex(let limit): "The query exceeds the maximum complexity of \(limit)."
        case .batchTooLarge(let limit): "A batch may hold at most \(limit) operations."
        case .emptyBatch: "A batch must hold at least one operation."
        case .introspectionDisabled: "Introspection is disabled."
        case .fragmentCycle: "The query contains a fragment cycle."
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// How the request is answered over HTTP: every limit is a validation rule of this server (GraphQL
    /// over HTTP, "Validation"), except a pool with no free thread, which is the server's state.
    var failure: GraphQLRequestFailure {
        self == .preparationUnavailable ? .unavailable : .invalid
    }

    /// Metrics label.
    var label: String {
        switch self {
        case .documentTooLarge: "document_too_large"
        case .tooDeeplyNested: "too_deeply_nested"
        case .valueTooDeeplyNested: "value_too_deeply_nested"
        case .preparationOverran: "preparation_overran"
        case .preparationUnavailable: "preparation_unavailable"
        case .tooDeep: "too_deep"
        case .tooManyAliases: "too_many_aliases"
        case .tooComplex: "too_complex"
        case .batchTooLarge: "batch_too_large"
        case .emptyBatch: "empty_batch"
        case .introspectionDisabled: "introspection_disabled"
        case .fragmentCycle: "fragment_cycle"
        }
    }
}

/// A walk over a parsed document that measures it against `GraphQLLimits`, stopping at the first
/// violation so a hostile document costs at most about `maxComplexity` visits.
///
/// Complexity estimate: a field costs `multiplier × (1 + cost of its selections)`, where the multiplier is
/// the literal value of a `first`, `last` or `limit` argument (`assumedPageSize` for a variable), else 1.
/// So `transactions(first: 50) { edges { node { id } } }` costs 50 × 4 = 200.
public struct GraphQLDocumentAnalysis: Sendable, Equatable {
    public private(set) var depth = 0
    public private(set) var aliases = 0
    public private(set) var complexity = 0

    /// Measures `document`, throwing the first limit it breaks.
    public static func analyse(_ document: Document, limits: GraphQLLimits) throws(GraphQLLimitViolation)
        -> GraphQLDocumentAnalysis
    {
        var walker = Walker(limits: limits, fragments: [:])
        for definition in document.definitions {
            if let fragment = definition as? FragmentDefinition {
                walker.fragments[fragment.name.value] = fragment
            }
        }
        var analysis = GraphQLDocumentAnalysis()
        for case let operation as OperationDefinition in document.definitions {
            let cost = try walker.cost(of: operation.selectionSet, depth: 0)
            analysis.complexity = min(analysis.complexity + cost, limits.maxComplexity + 1)
            guard analysis.complexity <= limits.maxComplexity else {
                throw .tooComplex(limit: limits.maxComplexity)
            }
        }
        analysis.depth = walker.maxDepthSeen
        analysis.aliases = walker.aliases
        return analysis
    }

    private struct Walker {
        let limits: GraphQLLimits
        var fragments: [String: FragmentDefinition]
        var aliases = 0
        var maxDepthSeen = 0
        var spreadStack: [String] = []

        mutating func cost(of selectionSet: SelectionSet, depth: Int) throws(GraphQLLimitViolation) -> Int {
            var total = 0
            for selection in selectionSet.selections {
                total = try add(total, try cost(of: selection, depth: depth))
            }
            return total
        }

        mutating func cost(of selection: any Selection, depth: Int) throws(GraphQLLimitViolation) -> Int {
            switch selection {
            case let field as Field:
                return try cost(of: field, depth: depth + 1)
            case let inline as InlineFragment:
                return try cost(of: inline.selectionSet, depth: depth)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard !spreadStack.contains(name) else { throw .fragmentCycle }
                // An unknown fragment is left to validation, which reports it with a location.
                guard let fragment = fragments[name] else { return 0 }
                spreadStack.append(name)
                defer { spreadStack.removeLast() }
                return try cost(of: fragment.selectionSet, depth: depth)
            default:
                return 0
            }
        }

        mutating func cost(of field: Field, depth: Int) throws(GraphQLLimitViolation) -> Int {
            guard depth <= limits.maxDepth else { throw .tooDeep(limit: limits.maxDepth) }
            maxDepthSeen = max(maxDepthSeen, depth)
            if field.name.value == "__schema" || field.name.value == "__type", !limits.introspectionEnabled {
                throw .introspectionDisabled
            }
            if field.alias != nil {
                aliases += 1
                guard aliases <= limits.maxAliases else { throw .tooManyAliases(limit: limits.maxAliases) }
            }
            var children = 0
            if let selectionSet = field.selectionSet { children = try cost(of: selectionSet, depth: depth) }
            let (product, overflow) = multiplier(of: field).multipliedReportingOverflow(by: try add(children, 1))
            guard !overflow, product <= limits.maxComplexity else { throw .tooComplex(limit: limits.maxComplexity) }
            return product
        }

        func multiplier(of field: Field) -> Int {
            for argument in field.arguments where ["first", "last", "limit"].contains(argument.name.value) {
                if let literal = argument.value as? IntValue {
                    // A value too large for Int is certainly over the limit.
                    return max(1, Int(literal.value) ?? Int.max)
                }
                if argument.value is Variable { return max(1, limits.assumedPageSize) }
            }
            return 1
        }

        func add(_ lhs: Int, _ rhs: Int) throws(GraphQLLimitViolation) -> Int {
            let (sum, overflow) = lhs.addingReportingOverflow(rhs)
            guard !overflow, sum <= limits.maxComplexity else { throw .tooComplex(limit: limits.maxComplexity) }
            return sum
        }
    }
}
