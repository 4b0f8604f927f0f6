import Hummingbird
import Logging
import Synchronization

/// The per-request context of every route: the request id and, once the bearer middleware has run, who is
/// calling. Routes that need a caller use `AuthenticatedContext` instead, which cannot exist without one.
public struct CreditsRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `X-Request-Id` and attached to every log line of this request.
    public var requestID: String
    /// Set by `BearerAuthenticationMiddleware` when the key resolved; nil otherwise.
    public var principal: Principal?
    /// The id of the key that resolved (`APIKeyHash.id`); set together with `principal`.
    public var keyID: String?
    /// Who the request line names as the caller. A reference shared by every copy of this context, because
    /// the caller is known only inside (after authentication) and the line is written outside.
    public let caller = RequestCaller()

    /// Hummingbird's `id` reads a logger key that `RequestLoggingMiddleware` replaces: use `requestID`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.principal = nil
        self.keyID = nil
    }
}

/// The caller of one request as logs name it (`org:<id>` or `admin`), once a key has resolved.
public final class RequestCaller: Sendable {
    private let value = Mutex<String?>(nil)

    public init() {}

    public var label: String? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// The context of authenticated routes. Its initialiser throws 401 unless the bearer key resolved to an
/// organisation or a platform admin, so a handler typed on it always has a non-optional caller.
public struct AuthenticatedContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestID: String
    public let principal: Principal
    /// Which key the caller presented (`APIKeyHash.id`): what audit rows record as the actor.
    public let keyID: String

    public init(context: CreditsRequestContext) throws {
        guard let principal = context.principal, let keyID = context.keyID else { throw ProblemDetails.unauthorized }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
        self.principal = principal
        self.keyID = keyID
    }
}
