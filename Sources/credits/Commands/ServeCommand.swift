import ArgumentParser
import Foundation
import Ledger
import Logging
import Service
import Synchronization

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
    @Option(name: .long, help: "Address to bind: an IPv4 or IPv6 address or a host name (exit 74 when it cannot be bound).")
    var host = "127.0.0.1"
    @Option(name: .long, help: "Port to bind, 0...65535 (0: any free port).") var port = 8080
    @Option(name: .long, help: "Largest request body in bytes.") var maxBodyBytes = 64 * 1024
    @Flag(name: .long, help: "Allow GraphQL introspection (off in production).") var introspection = false
    @Option(name: .long, help: "Revolut Merchant API base URL. Default: $CREDITS_REVOLUT_BASE_URL or production.")
    var revolutBaseURL: String?
    @Option(name: .long, help: "Sign GraphQL auditStatement with this Ed25519 key file (default: $CREDITS_AUDIT_SIGNING_KEY; neither: unsigned).")
    var auditSigningKey: String?
    @Option(name: .long, help: "Log level.") var logLevel: Logger.Level = .info
    @Option(name: .long, help: "Log line format. Default: json when stderr is not a terminal, text when it is.")
    var logFormat: LogFormat?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port \(port): a port is 0...65535") }
        guard BindHost.isValid(host) else {
            throw ValidationError("--host \(host): not an IPv4 address, an IPv6 address or a host name")
        }
    }

    func run() async throws {
        (logFormat ?? (standardErrorIsTerminal ? .text : .json)).bootstrap()
        var logger = Logger(label: "credits.serve")
        logger.logLevel = logLevel
        // Whether it started, where it listens and why it could not: said whatever --log-level is, in the
        // chosen format (scripts and tests wait for the listening line to learn the port).
        var lifecycle = logger
        lifecycle.logLevel = min(logger.logLevel, .notice)
        let environment = ProcessInfo.processInfo.environment
        let clock = try options.clock()
        let ledger: any LiveLedger
        do {
            switch options.store {
            case .sqlite(let path):
                ledger = try LedgerDatabase.open(at: path, durability: .live, clock: clock)
            case .postgres(let location):
                ledger = try await PostgresLiveLedger.connect(at: location, clock: clock)
            }
        } catch let error as ClassifiedError {
            lifecycle.error("credits serve: error: \(error.description)")
            throw ExitCode(ExitStatus.code(for: error.failureClass))
        }
        let auditKeyPath = auditSigningKey ?? environment[AuditCommand.signingKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
        let auditKey: AuditSigningKey?
        do { auditKey = try auditKeyPath.map { path throws(AuditKeyError) in try AuditSigningKey(contentsOf: path) } } catch {
            lifecycle.error("credits serve: error: \(error.description)")
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
        ServiceMetrics.registerBuild(version: BuildInfo.version, commit: BuildInfo.commit, in: metrics)
        let revolut = try revolutClient(logger: logger, metrics: metrics)
        let webhookHandler: any RevolutWebhookHandler = revolut.map {
            LedgerWebhookHandler(ledger: ledger, revolut: $0, now: clock, logger: logger)
        } ?? DeferringWebhookHandler()
        let dependencies = ServiceDependencies(
            keyStore: LedgerAPIKeyStore(ledger: ledger), metrics: metrics, now: clock, webhookHandler: webhookHandler,
            graphQL: try LedgerSchema.endpoint(
                ledger: ledger, now: clock, limits: configuration.graphQL, metrics: metrics, revolut: revolut,
                auditSigningKey: auditKey),
            spendingRoutes: UsageRoute.spendingRoutes(ledger: ledger), holdRoutes: HoldRoutes.spendingRoutes(ledger: ledger))
        let listening = ListeningFlag()
        let app = try CreditsServer.makeApplication(
            configuration: configuration, dependencies: dependencies, logger: logger,
            onServerRunning: { [host, lifecycle] port in
                listening.set()
                lifecycle.notice(
                    "credits serve: listening on \(host):\(port)",
                    metadata: ["host": .string(host), "port": .stringConvertible(port), "version": .string(BuildInfo.version),
                               "commit": .string(BuildInfo.commit)])
            })
        do {
            try await app.runService()
        } catch where !listening.isSet {
            // The address could not be resolved or bound (in use, not local, no permission): an I/O
            // failure of this run, not a bug.
            lifecycle.error("credits serve: error: cannot listen on \(host):\(port): \(error)")
            throw ExitCode(ExitStatus.code(for: .io))
        }
    }

    /// The Revolut client when `CREDITS_REVOLUT_SECRET_KEY` is set. Without it, purchases are refused and
    /// completed orders are deferred (503) so nothing is acknowledged unchecked.
    private func revolutClient(logger: Logger, metrics: MetricsRegistry) throws -> RevolutClient? {
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
            configuration: RevolutClientConfiguration(baseURL: baseURL, secretKey: secretKey), logger: logger,
            metrics: metrics)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

/// Whether the server got as far as listening, so a failure before it is reported as a bind failure (74).
private final class ListeningFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// What `--host` may be: an IP address literal, or a host name of letters, digits and hyphens in dot-separated
/// labels (RFC 1123). Anything else is a usage error (64) before any socket is made; a valid name that does
/// not resolve or bind fails later, as I/O (74).
enum BindHost {
    static func isValid(_ host: String) -> Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 || inet_pton(AF_INET6, host, &ipv6) == 1 { return true }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                }
        }
    }
}
