import ArgumentParser
import Foundation
import Ledger
import Logging
import Service

/// `credits serve`: the live service (GraphQL, Revolut webhook, metrics) until SIGTERM or SIGINT, which
/// stop accepting connections and drain the requests in flight.
///
/// Secrets come only from the environment, never from flags, so they do not show in `ps`:
/// `CREDITS_REVOLUT_WEBHOOK_SECRETS` (comma-separated, old and new during a rotation) and
/// `CREDITS_REVOLUT_SECRET_KEY`. Without the secret key, `ORDER_COMPLETED` deliveries are answered 503 so
/// Revolut delivers them again once the service is configured.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the live service: GraphQL API, Revolut webhook, POST /v1/usage, /healthz, /metrics.")

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "Address to bind.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to bind (0: any free port).") var port = 8080
    @Option(name: .long, help: "Largest request body in bytes.") var maxBodyBytes = 64 * 1024
    @Flag(name: .long, help: "Allow GraphQL introspection (off in production).") var introspection = false
    @Option(name: .long, help: "Revolut Merchant API base URL. Default: $CREDITS_REVOLUT_BASE_URL or production.")
    var revolutBaseURL: String?
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "credits.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let environment = ProcessInfo.processInfo.environment
        let clock = try options.clock()
        let ledger: LedgerDatabase
        do {
            ledger = try LedgerDatabase.open(at: options.db, durability: .live, clock: clock)
        } catch let error as ClassifiedError {
            printError("credits serve: error: \(error.description)")
            throw ExitCode(ExitStatus.code(for: error.failureClass))
        }
        var configuration = ServiceConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.maxBodyBytes = maxBodyBytes
        configuration.graphQL.introspectionEnabled = introspection
        configuration.webhookSecrets = (environment["CREDITS_REVOLUT_WEBHOOK_SECRETS"] ?? "")
            .split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if configuration.webhookSecrets.isEmpty {
            logger.warning("no CREDITS_REVOLUT_WEBHOOK_SECRETS: every webhook delivery will be refused")
        }
        let metrics = MetricsRegistry()
        let revolut = try revolutClient(logger: logger)
        let webhookHandler: any RevolutWebhookHandler = revolut.map {
            LedgerWebhookHandler(ledger: ledger, revolut: $0, now: clock, logger: logger)
        } ?? DeferringWebhookHandler()
        let dependencies = ServiceDependencies(
            keyStore: LedgerAPIKeyStore(ledger: ledger), metrics: metrics, now: clock, webhookHandler: webhookHandler,
            graphQL: try LedgerSchema.endpoint(
                ledger: ledger, now: clock, limits: configuration.graphQL, metrics: metrics, revolut: revolut),
            spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger))
        let app = try CreditsServer.makeApplication(
            configuration: configuration, dependencies: dependencies, logger: logger,
            onServerRunning: { port in printError("credits serve: listening on \(host):\(port)") })
        try await app.runService()
    }

    /// The Revolut client when `CREDITS_REVOLUT_SECRET_KEY` is set. Without it, purchases are refused and
    /// completed orders are deferred (503) so nothing is acknowledged unchecked.
    private func revolutClient(logger: Logger) throws -> RevolutClient? {
        let environment = ProcessInfo.processInfo.environment
        guard let secretKey = environment["CREDITS_REVOLUT_SECRET_KEY"], !secretKey.isEmpty else {
            logger.warning("no CREDITS_REVOLUT_SECRET_KEY: purchases are off and completed orders are deferred")
            return nil
        }
        let text = revolutBaseURL ?? environment["CREDITS_REVOLUT_BASE_URL"] ?? "https://merchant.revolut.com"
        guard let baseURL = URL(string: text), baseURL.scheme == "https" || baseURL.scheme == "http" else {
            throw ValidationError("--revolut-base-url \(text): not an http(s) URL")
        }
        return RevolutClient(
            configuration: RevolutClientConfiguration(baseURL: baseURL, secretKey: secretKey), logger: logger)
    }
}
