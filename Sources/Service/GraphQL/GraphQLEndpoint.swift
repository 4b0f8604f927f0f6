import Foundation
import Graphiti
import GraphQL
import Ledger
import Logging

/// A resolver error whose message is safe to show to the client. Any other error thrown by a resolver is
/// reported as "Internal error." so storage messages, file paths or stack traces never leave the service.
public struct GraphQLClientError: Error, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}

/// What the GraphQL machinery hands back to the HTTP layer.
public struct GraphQLHTTPReply: Sendable {
    /// 200 when executed; 400 when refused before execution (malformed, over a limit, invalid).
    public let status: Int
    /// `application/json` bytes: a GraphQL response object, or an array of them for a batch.
    public let body: Data
}

/// Answers `POST /graphql` bodies for an authenticated caller. `GraphQLEndpoint` is the implementation;
/// the protocol keeps the HTTP layer independent of the schema's resolver and context types.
public protocol GraphQLResponder: Sendable {
    func respond(
        to body: [UInt8], principal: Principal, keyID: String, requestID: String, logger: Logger
    ) async -> GraphQLHTTPReply
    /// The parsed-document cache, for diagnostics and tests.
    var documentCache: GraphQLDocumentCache { get }
}

/// The machinery behind `POST /graphql`: decodes GraphQL-over-HTTP requests (one object, or a bounded JSON
/// array of them), enforces `GraphQLLimits` before executing anything, reuses cached parsed-and-validated
/// documents, executes through GraphQL with the Graphiti schema, and encodes with `GraphQLJSONEncoder` so
/// fields keep their selection order.
public struct GraphQLEndpoint<Resolver: Sendable, Context: Sendable>: GraphQLResponder {
    public typealias Reply = GraphQLHTTPReply

    let schema: Graphiti.Schema<Resolver, Context>
    let resolver: Resolver
    let limits: GraphQLLimits
    let cache: GraphQLDocumentCache
    let metrics: MetricsRegistry
    let makeContext: @Sendable (Principal, String, String) -> Context
    let compiler: @Sendable (Document) -> CompiledGraphQLQuery<Context>?

    /// - Parameters:
    ///   - compiler: a plan for a validated document the schema's owner can answer without the general
    ///     executor, or nil (see `CompiledGraphQLQuery`); asked once per cached document.
    ///   - makeContext: builds the resolvers' context from the authenticated caller, its key id and the
    ///     request id.
    public init(
        schema: Graphiti.Schema<Resolver, Context>,
        resolver: Resolver,
        limits: GraphQLLimits,
        metrics: MetricsRegistry,
        cache: GraphQLDocumentCache? = nil,
        compiler: @escaping @Sendable (Document) -> CompiledGraphQLQuery<Context>? = { _ in nil },
        makeContext: @escaping @Sendable (Principal, String, String) -> Context
    ) {
        self.schema = schema
        self.resolver = resolver
        self.compiler = compiler
        self.makeContext = makeContext
        self.limits = limits
        self.metrics = metrics
        self.cache = cache ?? GraphQLDocumentCache(capacity: limits.maxCachedDocuments)
    }

    /// The document cache (tests assert hits through it).
    public var documentCache: GraphQLDocumentCache { cache }

    public func respond(
        to body: [UInt8], principal: Principal, keyID: String, requestID: String, logger: Logger
    ) async -> Reply {
        await respond(to: body, context: makeContext(principal, keyID, requestID), logger: logger)
    }

    /// Answers one HTTP request body. Never throws: every failure is a GraphQL error response.
    public func respond(to body: some Collection<UInt8>, context: Context, logger: Logger) async -> Reply {
        let bytes = Array(body)
        let decoded: (requests: [GraphQLRequest], isBatch: Bool)
        if let common = GraphQLRequestScan.common(bytes) {
            decoded = ([common], false)
        } else {
            // Before JSONDecoder and before variables reach GraphQL's coercion: a batch array, a request
            // object and its variables object, then at most `maxValueNesting` levels of values.
            do {
                try GraphQLNestingScan.check(json: bytes, maxNesting: limits.maxValueNesting + 3)
            } catch {
                return rejection(error)
            }
            switch Self.decode(Data(bytes)) {
            case .success(let value): decoded = value
            case .failure(let failure): return rejection(failure.description, label: "malformed_request")
            }
        }
        if decoded.isBatch {
            if decoded.requests.isEmpty { return rejection(GraphQLLimitViolation.emptyBatch) }
            if decoded.requests.count > limits.maxBatchSize {
                return rejection(GraphQLLimitViolation.batchTooLarge(limit: limits.maxBatchSize))
            }
        }
        var prepared: [GraphQLDocumentCache.Entry] = []
        var totalComplexity = 0
        for request in decoded.requests {
            switch await prepare(request.query) {
            case .failure(let reply): return reply
            case .success(let entry):
                totalComplexity += entry.analysis.complexity
                prepared.append(entry)
            }
        }
        guard totalComplexity <= limits.maxComplexity else {
            return rejection(GraphQLLimitViolation.tooComplex(limit: limits.maxComplexity))
        }
        var bodies: [[UInt8]] = []
        for (request, entry) in zip(decoded.requests, prepared) {
            if let plan = entry.plan as? CompiledGraphQLQuery<Context>, let body = await plan.run(request, context) {
                metrics.increment(ServiceMetrics.graphQLExecutions, labels: [Label("path", "compiled")])
                bodies.append(body)
            } else {
                metrics.increment(ServiceMetrics.graphQLExecutions, labels: [Label("path", "executor")])
                let result = await execute(request, document: entry.document, context: context, logger: logger)
                bodies.append(Array(Self.encode(result)))
            }
        }
        guard decoded.isBatch else { return Reply(status: 200, body: Data(bodies[0])) }
        // A JSON array of the responses, as encoding `[GraphQLResult]` would write it.
        var body = Data("[".utf8)
        for (index, response) in bodies.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: response)
        }
        body.append(UInt8(ascii: "]"))
        return Reply(status: 200, body: body)
    }

    /// Looks the query up in the cache; on a miss bounds its nesting, then parses, measures and validates
    /// it off the event loop within the preparation budget, caching success.
    private func prepare(_ query: String) async -> PreparedOutcome {
        if query.utf8.count > limits.maxDocumentBytes {
            return .failure(rejection(GraphQLLimitViolation.documentTooLarge(limit: limits.maxDocumentBytes)))
        }
        if let entry = cache.lookup(query) {
            metrics.increment(ServiceMetrics.graphQLDocumentCache, labels: [Label("result", "hit")])
            return .success(entry)
        }
        metrics.increment(ServiceMetrics.graphQLDocumentCache, labels: [Label("result", "miss")])
        do {
            try GraphQLNestingScan.check(
                document: query, maxNesting: limits.maxNesting, maxValueNesting: limits.maxValueNesting)
        } catch {
            return .failure(rejection(error))
        }
        switch await GraphQLPreparationPool.shared.run(budget: limits.preparationBudget, { parseAndValidate(query) }) {
        case .finished(.success(let entry)):
            cache.insert(entry, for: query)
            return .success(entry)
        case .finished(let failure):
            return failure
        case .overran:
            return .failure(rejection(GraphQLLimitViolation.preparationOverran(budget: limits.preparationBudget)))
        case .notStarted:
            return .failure(rejection(GraphQLLimitViolation.preparationUnavailable, status: 503))
        }
    }

    /// Parses, measures and validates `query`: CPU-bound work for `GraphQLPreparationPool`.
    private func parseAndValidate(_ query: String) -> PreparedOutcome {
        let document: Document
        do {
            document = try GraphQL.parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return .failure(rejection(errors: [Self.sanitised(error)], label: "syntax"))
        } catch {
            return .failure(rejection("The query could not be parsed.", label: "syntax"))
        }
        let analysis: GraphQLDocumentAnalysis
        do {
            analysis = try GraphQLDocumentAnalysis.analyse(document, limits: limits)
        } catch {
            return .failure(rejection(error))
        }
        let errors = GraphQL.validate(schema: schema.schema, ast: document, rules: GraphQL.specifiedRules)
        guard errors.isEmpty else {
            return .failure(rejection(errors: errors.map(Self.sanitised), label: "invalid"))
        }
        return .success(GraphQLDocumentCache.Entry(document: document, analysis: analysis, plan: compiler(document)))
    }

    private func execute(
        _ request: GraphQLRequest, document: Document, context: Context, logger: Logger
    ) async -> GraphQLResult {
        var result: GraphQLResult
        do {
            result = try await GraphQL.execute(
                schema: schema.schema,
                documentAST: document,
                rootValue: resolver,
                context: context,
                variableValues: request.variables,
                operationName: request.operationName
            )
        } catch {
            logger.error("graphql execution failed", metadata: ["error.type": .string("\(type(of: error))")])
            result = GraphQLResult(errors: [GraphQLError(message: "Internal error.", locations: [])])
        }
        result.errors = result.errors.map { error in
            if let original = error.originalError, !(original is GraphQLClientError) {
                logger.error("graphql resolver error", metadata: ["error": .string("\(original)")])
            }
            return Self.sanitised(error)
        }
        return result
    }

    private enum PreparedOutcome: Sendable {
        case success(GraphQLDocumentCache.Entry)
        case failure(Reply)
    }

    private func rejection(_ violation: GraphQLLimitViolation, status: Int = 400) -> Reply {
        rejection(violation.description, label: violation.label, status: status)
    }

    private func rejection(_ message: String, label: String, status: Int = 400) -> Reply {
        rejection(errors: [GraphQLError(message: message, locations: [])], label: label, status: status)
    }

    private func rejection(errors: [GraphQLError], label: String, status: Int = 400) -> Reply {
        metrics.increment(ServiceMetrics.graphQLRejections, labels: [Label("reason", label)])
        return Reply(status: status, body: Self.encode(GraphQLResult(errors: errors)))
    }

    /// Keeps GraphQL's own messages minus "Did you mean ...?" hints (they leak the schema when
    /// introspection is off); replaces resolver errors that are not `GraphQLClientError` by a generic one.
    static func sanitised(_ error: GraphQLError) -> GraphQLError {
        var message = error.message
        if let original = error.originalError {
            if let storage = original as? StorageError, storage.reason == .busy {
                message = "The ledger is busy; nothing was changed. Retry shortly."
            } else {
                message = (original as? GraphQLClientError)?.message ?? "Internal error."
            }
        } else if let hint = message.range(of: " Did you mean") {
            message = String(message[..<hint.lowerBound])
        }
        return GraphQLError(message: message, locations: error.locations, path: error.path)
    }

    /// One request object, or a JSON array of them (a batch).
    static func decode(_ body: Data) -> Result<(requests: [GraphQLRequest], isBatch: Bool), DecodeFailure> {
        let firstByte = body.first { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }
        do {
            if firstByte == UInt8(ascii: "[") {
                return .success((try JSONDecoder().decode([GraphQLRequest].self, from: body), true))
            }
            return .success(([try JSONDecoder().decode(GraphQLRequest.self, from: body)], false))
        } catch {
            return .failure(DecodeFailure(
                "The body must be a JSON object with a string \"query\" and optional \"variables\" and "
                    + "\"operationName\", or an array of such objects."))
        }
    }

    struct DecodeFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func encode(_ value: some Encodable) -> Data {
        // GraphQLResult is strings, numbers and Maps: encoding it cannot fail in practice.
        let encoder = GraphQLJSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data(#"{"errors":[{"message":"Internal error."}]}"#.utf8)
    }
}
