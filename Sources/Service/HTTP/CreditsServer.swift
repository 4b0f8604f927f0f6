import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Settings of `credits serve` that are plain values (flags and environment).
public struct ServiceConfiguration: Sendable {
    /// Address to bind; `127.0.0.1` unless deliberately exposed.
    public var host = "127.0.0.1"
    /// Port to bind; 0 asks the OS for a free one (tests).
    public var port = 8080
    /// Largest request body accepted on any route (413 beyond).
    public var maxBodyBytes = 64 * 1024
    /// GraphQL hardening limits.
    public var graphQL = GraphQLLimits()
    /// Every Revolut webhook signing secret still valid (old and new during a rotation).
    public var webhookSecrets: [String] = []
    /// A connection that sends nothing for this long is closed (slow clients, abandoned keep-alives).
    public var idleTimeout: Duration = .seconds(30)

    public init() {}
}

/// The collaborators of the service, injected so tests and the ledger-backed build differ only here.
public struct ServiceDependencies: Sendable {
    public var keyStore: any APIKeyStore
    public var metrics: MetricsRegistry
    public var now: NowProvider
    public var webhookHandler: any RevolutWebhookHandler
    /// Answers `POST /graphql`; `nil` serves the bootstrap `StatusSchema`.
    public var graphQL: (any GraphQLResponder)?
    /// Routes that spend credits (`POST /v1/usage`), mounted behind authentication and the credit gate.
    public var spendingRoutes: SpendingRoutes?
    /// The hold routes (`HoldRoutes`), gated apart from `spendingRoutes` since each group's gate reads its
    /// own kind of body.
    public var holdRoutes: SpendingRoutes?

    public init(
        keyStore: any APIKeyStore,
        metrics: MetricsRegistry = MetricsRegistry(),
        now: @escaping NowProvider = systemNow,
        webhookHandler: any RevolutWebhookHandler = AcknowledgingWebhookHandler(),
        graphQL: (any GraphQLResponder)? = nil,
        spendingRoutes: SpendingRoutes? = nil,
        holdRoutes: SpendingRoutes? = nil
    ) {
        self.keyStore = keyStore
        self.metrics = metrics
        self.now = now
        self.webhookHandler = webhookHandler
        self.graphQL = graphQL
        self.spendingRoutes = spendingRoutes
        self.holdRoutes = holdRoutes
    }
}

/// The routes that spend credits and the gate in front of them. They are mounted under `/v1` on a group
/// typed `AuthenticatedContext` with `CreditGateMiddleware`, so no spending handler runs unauthenticated
/// or ungated.
///
/// ```swift
/// SpendingRoutes(gate: ledgerGate, intent: { request, context in ... }) { group in
///     group.post("usage") { request, context in ... }
/// }
/// ```
public struct SpendingRoutes: Sendable {
    public let gate: any CreditGate
    public let purchaseHint: String?
    public let intent: @Sendable (Request, AuthenticatedContext) async throws -> SpendIntent
    public let register: @Sendable (RouterGroup<AuthenticatedContext>) -> Void
    /// Routes under `/v1` that only use or give back what a gated route promised (settling or releasing a
    /// hold): authenticated, not gated; each checks the caller may act on what it names.
    public let registerUngated: (@Sendable (RouterGroup<AuthenticatedContext>) -> Void)?

    public init(
        gate: any CreditGate,
        purchaseHint: String? = nil,
        intent: @escaping @Sendable (Request, AuthenticatedContext) async throws -> SpendIntent,
        register: @escaping @Sendable (RouterGroup<AuthenticatedContext>) -> Void,
        registerUngated: (@Sendable (RouterGroup<AuthenticatedContext>) -> Void)? = nil
    ) {
        self.gate = gate
        self.purchaseHint = purchaseHint
        self.intent = intent
        self.register = register
        self.registerUngated = registerUngated
    }
}

/// Builds the `credits serve` HTTP application.
///
/// ```swift
/// let app = try CreditsServer.makeApplication(configuration: config, dependencies: deps, logger: logger)
/// try await app.runService()   // SIGTERM/SIGINT drain in-flight requests, then return
/// ```
public enum CreditsServer {
    /// The Hummingbird application inside `CreditsApplication`.
    public typealias App = Application<RouterResponder<CreditsRequestContext>>

    /// The application, bound to `configuration.host:port`. `onServerRunning` receives the bound port
    /// (useful with port 0). `eventLoopGroup`: the loops to serve on, NIO's shared ones by default (tests
    /// give a server loops of its own to tell its stalls from other servers' work).
    public static func makeApplication(
        configuration: ServiceConfiguration,
        dependencies: ServiceDependencies,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> CreditsApplication {
        let router = try makeRouter(configuration: configuration, dependencies: dependencies)
        let idle = configuration.idleTimeout.components
        let idleMilliseconds = idle.seconds * 1000 + idle.attoseconds / 1_000_000_000_000_000
        let application = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .milliseconds(idleMilliseconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: eventLoopGroup.map { .shared($0) } ?? .singleton,
            logger: logger
        )
        return CreditsApplication(application: application)
    }

    /// The routes and middleware, without binding anything.
    public static func makeRouter(configuration: ServiceConfiguration, dependencies: ServiceDependencies) throws
        -> Router<CreditsRequestContext>
    {
        let metrics = dependencies.metrics
        ServiceMetrics.describeAll(in: metrics)
        let router = Router(context: CreditsRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware(metrics: metrics))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))

        router.get("healthz") { _, _ in
            jsonResponse(status: .ok, body: Data(#"{"status":"ok"}"#.utf8))
        }
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = ByteBuffer(string: metrics.render())
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: text))
        }
        let webhook = RevolutWebhookRoute(
            verifier: RevolutSignatureVerifier(secrets: configuration.webhookSecrets, now: dependencies.now),
            handler: dependencies.webhookHandler,
            metrics: metrics
        )
        router.post("webhooks/revolut") { request, context in
            try await webhook.respond(to: request, context: context)
        }

        let graphQL = try dependencies.graphQL
            ?? StatusSchema.endpoint(now: dependencies.now, limits: configuration.graphQL, metrics: metrics)
        let authenticated = router.group()
            .add(middleware: BearerAuthenticationMiddleware(store: dependencies.keyStore))
            .group(context: AuthenticatedContext.self)
        for spending in [dependencies.spendingRoutes, dependencies.holdRoutes].compactMap({ $0 }) {
            let gate = CreditGateMiddleware(
                gate: spending.gate, metrics: metrics, purchaseHint: spending.purchaseHint ?? defaultPurchaseHint,
                intent: spending.intent)
            spending.register(authenticated.group("v1").add(middleware: gate))
            spending.registerUngated?(authenticated.group("v1"))
        }
        authenticated.post("graphql") { request, context in
            let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
            return await graphQLResponse(
                graphQL, .post(body: Array(body.readableBytesView)), request: request, context: context)
        }
        authenticated.get("graphql") { request, context in
            await graphQLResponse(graphQL, .get(urlQuery: request.uri.query), request: request, context: context)
        }
        return router
    }

    /// Answers a GraphQL-over-HTTP request as its `Accept` header asks (`GraphQLResponseMediaType`).
    static func graphQLResponse(
        _ graphQL: any GraphQLResponder, _ graphQLRequest: GraphQLHTTPRequest, request: Request,
        context: AuthenticatedContext
    ) async -> Response {
        let reply = await graphQL.respond(
            to: graphQLRequest, mediaType: .negotiate(accept: request.headers[.accept]),
            principal: context.principal, keyID: context.keyID, requestID: context.requestID, logger: context.logger)
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        if let allow = reply.allow { headers[.allow] = allow }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// Where a refused caller can buy credits, unless `SpendingRoutes` says otherwise.
    public static let defaultPurchaseHint = "mutation purchaseCreditPackage(organisationId:packageId:) on POST /graphql"

    static func jsonResponse(status: HTTPResponse.Status, body: Data) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The running service: the Hummingbird application with every task of its tree preferring
/// `EventLoopTaskExecutor`, so requests stay on the event loop that read them (see that type for why).
public struct CreditsApplication: Service {
    let application: CreditsServer.App

    public func run() async throws {
        let executor = EventLoopTaskExecutor(group: application.eventLoopGroup)
        try await withTaskExecutorPreference(executor) {
            try await application.run()
        }
    }

    /// Runs until SIGTERM or SIGINT, then stops accepting connections and drains the requests in flight.
    public func runService() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
        try await group.run()
    }
}

/// `POST /webhooks/revolut`: verify the raw bytes, then parse, then hand over (revolut.md §6.4, §6.5).
struct RevolutWebhookRoute: Sendable {
    let verifier: RevolutSignatureVerifier
    let handler: any RevolutWebhookHandler
    let metrics: MetricsRegistry

    static let signatureField = HTTPField.Name(RevolutSignatureVerifier.signatureHeader)!
    static let timestampField = HTTPField.Name(RevolutSignatureVerifier.timestampHeader)!

    func respond(to request: Request, context: CreditsRequestContext) async throws -> Response {
        // Already bounded by BodyLimitMiddleware; these are the bytes Revolut signed.
        let body = try await request.body.collect(upTo: .max)
        let bytes = Array(body.readableBytesView)
        let verdict = verifier.verify(
            signatureHeader: request.headers[Self.signatureField],
            timestampHeader: request.headers[Self.timestampField],
            body: bytes
        )
        if case .rejected(let reason) = verdict {
            count("rejected_\(reason.rawValue)")
            context.logger.warning("webhook rejected", metadata: ["reason": .string(reason.rawValue)])
            throw ProblemDetails(
                status: .unauthorized, problem: .webhookSignature, title: "Unauthorized",
                detail: "The webhook signature could not be verified.")
        }
        guard let event = RevolutWebhookEvent.parse(Data(bytes)) else {
            count("malformed")
            throw ProblemDetails(
                status: .badRequest, problem: .webhookBody, title: "Bad Request",
                detail: "The webhook body is not a Revolut event object.")
        }
        let outcome: WebhookHandlingOutcome
        do {
            outcome = try await handler.handle(event)
        } catch let retry as WebhookRetryLater {
            context.logger.warning("webhook deferred", metadata: ["reason": .string(retry.reason)])
            outcome = .retryLater
        }
        count(outcome.rawValue)
        context.logger.info("webhook", metadata: ["event": .string(event.event), "outcome": .string(outcome.rawValue)])
        guard outcome != .retryLater else {
            throw ProblemDetails(
                status: .serviceUnavailable, problem: .retryLater, title: "Service Unavailable",
                detail: "The delivery could not be processed now; it will be retried.",
                headers: ["Retry-After": "60"])
        }
        return Response(status: .noContent)
    }

    private func count(_ outcome: String) {
        metrics.increment(ServiceMetrics.webhookDeliveries, labels: [Label("outcome", outcome)])
    }
}
