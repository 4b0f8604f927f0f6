import Graphiti
import Ledger

/// What resolvers know about the request: who is calling, with which key, and the id to log with.
public struct GraphQLRequestContext: Sendable {
    public let principal: Principal
    /// The id of the caller's API key (`APIKeyHash.id`); audited mutations record it as the actor.
    public let keyID: String
    public let requestID: String

    public init(principal: Principal, keyID: String, requestID: String) {
        self.principal = principal
        self.keyID = keyID
        self.requestID = requestID
    }

    /// Who the ledger records as having made this request's changes: the caller's API key.
    public var actor: Actor { .apiKey(id: keyID) }
}

/// The resolvers of the bootstrap schema: enough to prove the GraphQL machinery end to end until the
/// ledger-backed resolvers (`creditBalance`, `transactions`, ...) land.
public struct StatusResolver: Sendable {
    let now: NowProvider

    public init(now: @escaping NowProvider) {
        self.now = now
    }

    /// Always `"ok"`: the API answered.
    public func health(context: GraphQLRequestContext, arguments: NoArguments) -> String {
        "ok"
    }

    /// The service clock as ISO 8601 UTC with milliseconds.
    public func serverTime(context: GraphQLRequestContext, arguments: NoArguments) -> String {
        now().iso8601
    }
}

/// The bootstrap schema: `{ health serverTime }`.
public enum StatusSchema {
    public static func make() throws -> Schema<StatusResolver, GraphQLRequestContext> {
        try Schema<StatusResolver, GraphQLRequestContext> {
            Query {
                Field("health", at: StatusResolver.health)
                Field("serverTime", at: StatusResolver.serverTime)
            }
        }
    }

    /// The endpoint serving this schema with the given limits.
    public static func endpoint(now: @escaping NowProvider, limits: GraphQLLimits, metrics: MetricsRegistry) throws
        -> GraphQLEndpoint<StatusResolver, GraphQLRequestContext>
    {
        GraphQLEndpoint(schema: try make(), resolver: StatusResolver(now: now), limits: limits, metrics: metrics) {
            GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2)
        }
    }
}
