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
    /// Threads that parse and validate documents the cache does not hold (`GraphQLPreparationPool`): two,
    /// the cores of the machines the service runs on.
    public var preparationThreads = 2
    /// Deepest field nesting, counting fragments' fields where they are spread. Fields under `__schema`
    /// and `__type` count towards `maxIntrospectionDepth` instead.
    public var maxDepth = 10
    /// Deepest field nesting under `__schema` or `__type`, counted from that field. The standard
    /// introspection query (graphql-core, graphql-js, GraphiQL) reaches 14: nine levels of `ofType`.
    public var maxIntrospectionDepth = 16
    /// Most list fields nested under `__schema` or `__type` (`types`, `fields`, `args`, ...): each
    /// multiplies the answer by the schema's size. The standard query nests `types { fields { args } }`.
    public var maxIntrospectionListNesting = 3
    /// Most aliased fields in one document (alias batching multiplies work).
    public var maxAliases = 15
    /// Highest complexity estimate of one document, and of the sum over a batch (see `GraphQLDocumentAnalysis`).
    /// A full page of 100 with every field, cursors and `pageInfo` costs about 1,600 (`transactions`) or
    /// 2,000 (`configurationChanges`, whose nodes carry two nested values); two full pages are refused.
    public var maxComplexity = 2_500
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
    case tooManyIntrospectionLists(limit: Int)
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
        case .tooManyIntrospectionLists(let limit): "The introspection query nests more than \(limit) list fields."
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

    /// The error code; the metrics label is the same in lower case.
    var code: GraphQLErrorCode {
        switch self {
        case .documentTooLarge: .documentTooLarge
        case .tooDeeplyNested: .tooDeeplyNested
        case .valueTooDeeplyNested: .valueTooDeeplyNested
        case .preparationOverran: .preparationOverran
        case .preparationUnavailable: .preparationUnavailable
        case .tooDeep: .tooDeep
        case .tooManyAliases: .tooManyAliases
        case .tooComplex: .tooComplex
        case .batchTooLarge: .batchTooLarge
        case .emptyBatch: .emptyBatch
        case .introspectionDisabled: .introspectionDisabled
        case .tooManyIntrospectionLists: .tooManyIntrospectionLists
        case .fragmentCycle: .fragmentCycle
        }
    }

    /// Metrics label.
    var label: String { code.rawValue.lowercased() }
}

/// A walk over a parsed document that measures it against `GraphQLLimits`, stopping at the first
/// violation so a hostile document costs at most about `maxComplexity` visits.
///
/// Complexity estimate: a field costs 1 plus its selections; a field with a `first`, `last` or `limit`
/// argument multiplies by that page size (its literal value, `assumedPageSize` for a variable) the cost
/// of what repeats per item: its `edges` and `nodes` when it is a connection, else all its selections.
/// So `transactions(first: 50) { edges { node { id } } pageInfo { hasNextPage } }` costs
/// 1 + 50 × 3 + 2 = 153.
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
        /// The depth of the `__schema` or `__type` field being walked, if any.
        var introspectionRoot: Int?
        /// How many introspection list fields enclose the field being walked.
        var introspectionLists = 0

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
            let entersIntrospection = introspectionRoot == nil && Self.introspectionRoots.contains(field.name.value)
            if entersIntrospection {
                guard limits.introspectionEnabled else { throw .introspectionDisabled }
                introspectionRoot = depth
            }
            defer { if entersIntrospection { introspectionRoot = nil } }
            let isIntrospectionList = introspectionRoot != nil && Self.introspectionLists.contains(field.name.value)
            if isIntrospectionList { introspectionLists += 1 }
            defer { if isIntrospectionList { introspectionLists -= 1 } }
            try checkDepth(depth)
            if field.alias != nil {
                aliases += 1
                guard aliases <= limits.maxAliases else { throw .tooManyAliases(limit: limits.maxAliases) }
            }
            let pageSize = multiplier(of: field)
            guard let selectionSet = field.selectionSet else { return try add(0, pageSize) }
            let isConnection = pageSize > 1
                && selectionSet.selections.contains { ($0 as? Field).map { Self.perItem.contains($0.name.value) } ?? false }
            var once = 1
            var perItem = 0
            for selection in selectionSet.selections {
                let cost = try cost(of: selection, depth: depth)
                if !isConnection || (selection as? Field).map({ Self.perItem.contains($0.name.value) }) == true {
                    perItem = try add(perItem, cost)
                } else {
                    once = try add(once, cost)
                }
            }
            if !isConnection { (once, perItem) = (0, try add(perItem, 1)) }
            let (product, overflow) = pageSize.multipliedReportingOverflow(by: perItem)
            guard !overflow else { throw .tooComplex(limit: limits.maxComplexity) }
            return try add(once, product)
        }

        /// Fields under `__schema`/`__type` are bounded by their own depth and list nesting; the others by
        /// `maxDepth`.
        mutating func checkDepth(_ depth: Int) throws(GraphQLLimitViolation) {
            maxDepthSeen = max(maxDepthSeen, depth)
            guard let root = introspectionRoot else {
                guard depth <= limits.maxDepth else { throw .tooDeep(limit: limits.maxDepth) }
                return
            }
            guard depth - root <= limits.maxIntrospectionDepth else {
                throw .tooDeep(limit: limits.maxIntrospectionDepth)
            }
            guard introspectionLists <= limits.maxIntrospectionListNesting else {
                throw .tooManyIntrospectionLists(limit: limits.maxIntrospectionListNesting)
            }
        }

        static let introspectionRoots: Set = ["__schema", "__type"]
        /// The list fields of the introspection types.
        static let introspectionLists: Set = [
            "types", "directives", "fields", "args", "inputFields", "interfaces", "possibleTypes", "enumValues",
        ]
        /// The selections of a connection that repeat once per item.
        static let perItem: Set = ["edges", "nodes"]

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
