import Logging

/// The request a task is serving, for log lines written far from the HTTP layer (the Revolut client,
/// the webhook handler, GraphQL resolvers) through loggers made at startup.
///
/// `RequestLoggingMiddleware` binds `requestID` around the rest of the request; `metadataProvider`,
/// installed with the logging system by `credits serve`, adds it to every line logged inside, so a
/// Revolut call made for a purchase carries the purchase request's id.
public enum RequestScope {
    @TaskLocal public static var requestID: String?

    /// Adds `request_id` to every line logged while a request is being served.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let requestID else { return [:] }
        return ["request_id": .string(requestID)]
    }
}

/// How `credits serve` writes its log lines.
public enum LogFormat: String, CaseIterable, Sendable {
    /// One JSON object per line (`JSONLogHandler`): what log shippers parse.
    case json
    /// swift-log's text lines, for a person at a terminal.
    case text

    /// Installs the process-wide logging backend. Call once, before any logger is made.
    public func bootstrap() {
        switch self {
        case .json:
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, metadataProvider: provider) },
                metadataProvider: RequestScope.metadataProvider)
        case .text:
            LoggingSystem.bootstrap(
                { label, provider in StreamLogHandler.standardError(label: label, metadataProvider: provider) },
                metadataProvider: RequestScope.metadataProvider)
        }
    }
}
