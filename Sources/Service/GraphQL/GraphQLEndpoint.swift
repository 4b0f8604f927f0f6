import Foundation
import Graphiti
import GraphQL
import Ledger
import Logging

/// A resolver error whose message is safe to show to the client. Any other error thrown by a resolver is
/// reported as "Internal error." so storage messages, file paths or stack traces never leave the service.
public struct GraphQLClientError: Error, Sendable, Equatable {
    public let message: String
    /// Sent as `extensions.code`.
    public let code: GraphQLErrorCode

    public init(_ message: String, code: GraphQLErrorCode = .badUserInput) {
        self.message = message
        self.code = code
    }
}

/// What the GraphQL machinery hands back to the HTTP layer.
public struct GraphQLHTTPReply: Sendable {
    /// 200 executed; 294 executed with errors (`application/graphql-response+json` only); 400, 405,
    /// 422 or 503 when refused before execution (see `GraphQLRequestFailure`).
    public let status: Int
    /// The `Content-Type`, from `GraphQLResponseMediaType`.
    public let contentType: String
    /// The `Allow` header, given with a 405.
    public let allow: String?
    /// A GraphQL response object, or a JSON array of them for a batch.
    public let body: Data
}

/// Answers GraphQL-over-HTTP requests for an authenticated caller. `GraphQLEndpoint` is the
/// implementation; the protocol keeps the HTTP layer independent of the schema's resolver and context types.
public protocol GraphQLResponder: Sendable {
    func respond(
        to request: GraphQLHTTPRequest, mediaType: GraphQLResponseMediaType, principal: Principal, keyID: String,
        requestID: String, logger: Logger
    ) async -> GraphQLHTTPReply
    /// The parsed-document cache, for diagnostics and tests.
    var documentCache: GraphQLDocumentCache { get }
}

/// The machinery behind `/graphql` (POST and GET): decodes GraphQL-over-HTTP requests (one object, or a
/// bounded JSON array of them), enforces `GraphQLLimits` before executing anything, reuses cached
/// parsed-and-validated documents, executes through GraphQL with the Graphiti schema, encodes with
/// `GraphQLJSONEncoder` so fields keep their selection order, and answers with the statuses of GraphQL
/// over HTTP (`GraphQLRequestFailure`).
public struct GraphQLEndpoint<Resolver: Sendable, Context: Sendable>: GraphQLResponder {
    public typealias Reply = GraphQLHTTPReply

    let schema: Graphiti.Schema<Resolver, Context>
    let resolver: Resolver
    let limits: GraphQLLimits
    let cache: GraphQLDocumentCache
    let preparation: GraphQLPreparationPool
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
        self.preparation = GraphQLPreparationPool(threads: limits.preparationThreads)
    }

    /// The document cache (tests assert hits through it).
    public var documentCache: GraphQLDocumentCache { cache }

    public func respond(
        to request: GraphQLHTTPRequest, mediaType: GraphQLResponseMediaType, principal: Principal, keyID: String,
        requestID: String, logger: Logger
    ) async -> Reply {
        await respond(
            to: request, mediaType: mediaType, context: makeContext(principal, keyID, requestID), logger: logger)
    }

    /// Answers one HTTP request. Never throws: every failure is a GraphQL error response.
    public func respond(
        to request: GraphQLHTTPRequest, mediaType: GraphQLResponseMediaType, context: Context, logger: Logger
    ) async -> Reply {
        let outcome = await outcome(of: request, context: context, logger: logger)
        switch outcome {
        case .answered(let body, let hasErrors):
            // 294 is GraphQL over HTTP's "partial success"; legacy `application/json` clients predate it.
            let status = hasErrors && mediaType == .graphQLResponseJSON ? 294 : 200
            return Reply(status: status, contentType: mediaType.contentType, allow: nil, body: body)
        case .refused(let failure, let body):
            let allow = failure == .mutationOverGET ? GraphQLHTTPRequest.methodsForMutations : nil
            return Reply(status: failure.status, contentType: mediaType.contentType, allow: allow, body: body)
        }
    }

    /// A POST body (one request object or a batch array), as the tests and benchmarks send it.
    public func respond(to body: some Collection<UInt8>, context: Context, logger: Logger) async -> Reply {
        await respond(to: .post(body: Array(body)), mediaType: .json, context: context, logger: logger)
    }

    /// What became of a request: a GraphQL response, or a refusal before execution.
    enum Outcome: Sendable {
        case answered(body: Data, hasErrors: Bool)
        case refused(GraphQLRequestFailure, body: Data)
    }

    private func outcome(of request: GraphQLHTTPRequest, context: Context, logger: Logger) async -> Outcome {
        let decoded: (requests: [GraphQLRequest], isBatch: Bool)
        switch decode(request) {
        case .success(let value): decoded = value
        case .failure(let refused): return refused.outcome
        }
        var prepared: [GraphQLDocumentCache.Entry] = []
        var totalComplexity = 0
        for graphQLRequest in decoded.requests {
            switch await prepare(graphQLRequest.query) {
            case .failure(let refusal): return refusal
            case .success(let entry):
                totalComplexity += entry.analysis.complexity
                prepared.append(entry)
            }
        }
        guard totalComplexity <= limits.maxComplexity else {
            return refusal(GraphQLLimitViolation.tooComplex(limit: limits.maxComplexity))
        }
        if case .get = request,
            zip(decoded.requests, prepared).contains(where: {
                $1.document.operation(named: $0.operationName)?.operation == .mutation
            })
        {
            return refusal(
                "Mutations must be sent with POST.", label: "mutation_over_get", failure: .mutationOverGET,
                code: .mutationOverGET)
        }
        var bodies: [[UInt8]] = []
        var hasErrors = false
        for (graphQLRequest, entry) in zip(decoded.requests, prepared) {
            if let plan = entry.plan as? CompiledGraphQLQuery<Context>,
                let body = await plan.run(graphQLRequest, context)
            {
                metrics.increment(ServiceMetrics.graphQLExecutions, labels: [Label("path", "compiled")])
                bodies.append(body)
                continue
            }
            metrics.increment(ServiceMetrics.graphQLExecutions, labels: [Label("path", "executor")])
            let result = await execute(graphQLRequest, document: entry.document, context: context, logger: logger)
            let body = Self.encode(result)
            if !decoded.isBatch, Self.isRequestError(result) {
                metrics.increment(ServiceMetrics.graphQLRejections, labels: [Label("reason", "request_error")])
                return .refused(.invalid, body: body)
            }
            hasErrors = hasErrors || !result.errors.isEmpty
            bodies.append(Array(body))
        }
        guard decoded.isBatch else { return .answered(body: Data(bodies[0]), hasErrors: hasErrors) }
        // A JSON array of the responses, as encoding `[GraphQLResult]` would write it.
        var body = Data("[".utf8)
        for (index, response) in bodies.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: response)
        }
        body.append(UInt8(ascii: "]"))
        return .answered(body: body, hasErrors: hasErrors)
    }

    /// The GraphQL requests an HTTP request carries (one, or a bounded batch), or the refusal to send.
    private func decode(_ request: GraphQLHTTPRequest) -> Result<(requests: [GraphQLRequest], isBatch: Bool), RefusalError> {
        let decoded: (requests: [GraphQLRequest], isBatch: Bool)
        switch request {
        case .post(let body):
            switch decodePOST(body) {
            case .success(let value): decoded = value
            case .failure(let refusal): return .failure(refusal)
            }
        case .get(let urlQuery):
            do {
                let request = try GraphQLGETParameters.request(
                    urlQuery: urlQuery, variablesNesting: limits.maxValueNesting + 1)
                decoded = ([request], false)
            } catch {
                return .failure(RefusalError(refusal(
                    error.message, label: "malformed_request", failure: .notWellFormed, code: .badRequest)))
            }
        }
        if decoded.isBatch {
            if decoded.requests.isEmpty { return .failure(RefusalError(refusal(GraphQLLimitViolation.emptyBatch))) }
            if decoded.requests.count > limits.maxBatchSize {
                return .failure(RefusalError(refusal(GraphQLLimitViolation.batchTooLarge(limit: limits.maxBatchSize))))
            }
        }
        return .success(decoded)
    }

    /// Whether execution stopped before any field ran: the operation could not be determined or the
    /// variables could not be coerced. GraphQL reports both as errors without data and without a path;
    /// a field error always has a path, even when it nulls the whole response.
    static func isRequestError(_ result: GraphQLResult) -> Bool {
        result.data == nil && !result.errors.isEmpty && result.errors.allSatisfy { $0.path.elements.isEmpty }
    }

    /// The requests of a POST body: the one-pass reader for the common shape, else (after bounding the
    /// JSON's nesting) `JSONDecoder`.
    private func decodePOST(_ bytes: [UInt8]) -> Result<(requests: [GraphQLRequest], isBatch: Bool), RefusalError> {
        if let common = GraphQLRequestScan.common(bytes) { return .success(([common], false)) }
        // Before JSONDecoder and before variables reach GraphQL's coercion: a batch array, a request
        // object and its variables object, then at most `maxValueNesting` levels of values.
        do {
            try GraphQLNestingScan.check(json: bytes, maxNesting: limits.maxValueNesting + 3)
        } catch {
            return .failure(RefusalError(refusal(error)))
        }
        switch Self.decode(Data(bytes)) {
        case .success(let value): return .success(value)
        case .failure(let failure):
            return .failure(RefusalError(refusal(
                failure.description, label: "malformed_request",
                failure: failure.isJSON ? .notWellFormed : .unreadableBody, code: .badRequest)))
        }
    }

    /// A refusal carried through `Result`.
    struct RefusalError: Error {
        let outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }
    }

    /// Looks the query up in the cache; on a miss bounds its nesting, then parses, measures and validates
    /// it off the event loop within the preparation budget, caching success.
    private func prepare(_ query: String) async -> PreparedOutcome {
        if query.utf8.count > limits.maxDocumentBytes {
            return .failure(refusal(GraphQLLimitViolation.documentTooLarge(limit: limits.maxDocumentBytes)))
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
            return .failure(refusal(error))
        }
        switch await preparation.run(budget: limits.preparationBudget, { parseAndValidate(query) }) {
        case .finished(.success(let entry)):
            cache.insert(entry, for: query)
            return .success(entry)
        case .finished(let failure):
            return failure
        case .overran:
            return .failure(refusal(GraphQLLimitViolation.preparationOverran(budget: limits.preparationBudget)))
        case .notStarted:
            return .failure(refusal(GraphQLLimitViolation.preparationUnavailable))
        }
    }

    /// Parses, measures and validates `query`: CPU-bound work for `GraphQLPreparationPool`.
    private func parseAndValidate(_ query: String) -> PreparedOutcome {
        if let cutShort = GraphQLLexerGuard.truncatedEscape(in: query) {
            return .failure(refusal(
                errors: [Self.sanitised(cutShort, code: .parseFailed)], label: "syntax", failure: .syntax,
                code: .parseFailed))
        }
        let document: Document
        do {
            document = try GraphQL.parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return .failure(refusal(
                errors: [Self.sanitised(error, code: .parseFailed)], label: "syntax", failure: .syntax,
                code: .parseFailed))
        } catch {
            return .failure(refusal(
                "The query could not be parsed.", label: "syntax", failure: .syntax, code: .parseFailed))
        }
        let analysis: GraphQLDocumentAnalysis
        do {
            analysis = try GraphQLDocumentAnalysis.analyse(document, limits: limits)
        } catch {
            return .failure(refusal(error))
        }
        let repeated = GraphQLDuplicateDefinitions.errors(in: document)
        guard repeated.isEmpty else {
            return .failure(refusal(
                errors: repeated.map { Self.sanitised($0, code: .validationFailed) }, label: "invalid",
                failure: .invalid, code: .validationFailed))
        }
        let errors = GraphQL.validate(schema: schema.schema, ast: document, rules: GraphQL.specifiedRules)
        guard errors.isEmpty else {
            return .failure(refusal(
                errors: errors.map { Self.sanitised($0, code: .validationFailed) }, label: "invalid",
                failure: .invalid, code: .validationFailed))
        }
        return .success(GraphQLDocumentCache.Entry(document: document, analysis: analysis, plan: compiler(document)))
    }

    private func execute(
        _ request: GraphQLRequest, document: Document, context: Context, logger: Logger
    ) async -> GraphQLResult {
        if let operation = document.operation(named: request.operationName),
            let refusal = GraphQLScalarVariables.firstRefusal(
                in: operation, variables: request.variables, schema: schema.schema)
        {
            return GraphQLResult(errors: [GraphQLErrorCode.badUserInput.attached(to: refusal)])
        }
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
            result = GraphQLResult(errors: [
                GraphQLErrorCode.internalError.attached(to: GraphQLError(message: "Internal error.", locations: []))
            ])
        }
        result.errors = result.errors.map { error in
            if let original = error.originalError, !(original is GraphQLClientError) {
                logger.error("graphql resolver error", metadata: ["error": .string("\(original)")])
            }
            // An error no resolver threw is GraphQL's own: a variable or argument it could not coerce, or
            // no operation to run.
            return Self.sanitised(error, code: .badUserInput)
        }
        return result
    }

    private enum PreparedOutcome: Sendable {
        case success(GraphQLDocumentCache.Entry)
        case failure(Outcome)
    }

    private func refusal(_ violation: GraphQLLimitViolation) -> Outcome {
        refusal(violation.description, label: violation.label, failure: violation.failure, code: violation.code)
    }

    private func refusal(
        _ message: String, label: String, failure: GraphQLRequestFailure, code: GraphQLErrorCode
    ) -> Outcome {
        refusal(errors: [GraphQLError(message: message, locations: [])], label: label, failure: failure, code: code)
    }

    /// A refusal before execution; every error gets `code` unless it carries one.
    private func refusal(
        errors: [GraphQLError], label: String, failure: GraphQLRequestFailure, code: GraphQLErrorCode
    ) -> Outcome {
        metrics.increment(ServiceMetrics.graphQLRejections, labels: [Label("reason", label)])
        let coded = errors.map { $0.extensions["code"] == nil ? code.attached(to: $0) : $0 }
        return .refused(failure, body: Self.encode(GraphQLResult(errors: coded)))
    }

    /// Keeps GraphQL's own messages minus "Did you mean ...?" hints (they leak the schema when
    /// introspection is off); replaces resolver errors that are not `GraphQLClientError` by a generic one.
    /// Sets `extensions.code`: the resolver error's own, else `code`.
    static func sanitised(_ error: GraphQLError, code: GraphQLErrorCode) -> GraphQLError {
        var message = error.message
        var code = code
        if let original = error.originalError {
            if let storage = original as? StorageError, storage.reason == .busy {
                message = "The ledger is busy; nothing was changed. Retry shortly."
                code = .ledgerBusy
            } else if let store = original as? PostgresStoreError, store.isUnreachable {
                message = "The ledger's database cannot be reached right now. Retry shortly."
                code = .unavailable
            } else if let client = original as? GraphQLClientError {
                message = client.message
                code = client.code
            } else {
                message = "Internal error."
                code = .internalError
            }
        } else if let hint = message.range(of: " Did you mean") {
            message = String(message[..<hint.lowerBound])
        }
        return code.attached(to: GraphQLError(message: message, locations: error.locations, path: error.path))
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
            // Invalid JSON is `dataCorrupted` at the top level; a wrong shape is any other decoding error.
            var isJSON = true
            if case DecodingError.dataCorrupted(let context) = error, context.codingPath.isEmpty { isJSON = false }
            return .failure(DecodeFailure(
                "The body must be a JSON object with a string \"query\" and optional \"variables\" and "
                    + "\"operationName\", or an array of such objects.", isJSON: isJSON))
        }
    }

    struct DecodeFailure: Error, CustomStringConvertible {
        let description: String
        /// Whether the body was JSON (of the wrong shape) rather than not JSON at all.
        let isJSON: Bool
        init(_ description: String, isJSON: Bool) {
            self.description = description
            self.isJSON = isJSON
        }
    }

    static func encode(_ value: some Encodable) -> Data {
        // GraphQLResult is strings, numbers and Maps: encoding it cannot fail in practice.
        let encoder = GraphQLJSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data(#"{"errors":[{"message":"Internal error."}]}"#.utf8)
    }
}
