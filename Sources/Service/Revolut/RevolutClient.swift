import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How to reach the Revolut Merchant API. The secret key never appears in `description` or logs.
public struct RevolutClientConfiguration: Sendable, CustomStringConvertible {
    /// `https://merchant.revolut.com`, the sandbox host, or a local stub in tests.
    public var baseURL: URL
    /// The merchant secret key, sent only as `Authorization: Bearer`.
    public var secretKey: String
    /// The `Revolut-Api-Version` header value.
    public var apiVersion = "2025-12-04"
    /// Per-attempt timeout. At least one second: below that, swift-corelibs-foundation's URLSession
    /// times out at once (seen on Linux), so smaller values are raised to one second.
    public var requestTimeout: Duration = .seconds(10)
    /// Attempts per call, the first included.
    public var maxAttempts = 3
    /// Backoff before the second attempt; doubles each time up to `maxBackoff`.
    public var initialBackoff: Duration = .milliseconds(200)
    public var maxBackoff: Duration = .seconds(5)
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    public var maxRetryAfter: Duration = .seconds(30)

    public init(baseURL: URL, secretKey: String) {
        self.baseURL = baseURL
        self.secretKey = secretKey
    }

    public var description: String {
        "RevolutClientConfiguration(baseURL: \(baseURL), apiVersion: \(apiVersion), secretKey: <redacted>)"
    }
}

/// The Revolut Merchant API calls the service makes: create an order, retrieve one, find by our reference.
public protocol RevolutOrdersAPI: Sendable {
    func createOrder(_ request: RevolutOrderRequest) async throws(RevolutClientError) -> RevolutOrder
    func retrieveOrder(id: String) async throws(RevolutClientError) -> RevolutOrder
    func findOrders(reference: String) async throws(RevolutClientError) -> [RevolutOrder]
}

/// A Revolut Merchant API client over URLSession with bounded retries.
///
/// Reads are retried on 429, 5xx, timeouts and connection failures, with exponential backoff or the
/// server's `Retry-After` (capped). Order creation is not idempotent at Revolut (no `Idempotency-Key`),
/// so after an attempt whose outcome is uncertain (timeout, dropped connection, 5xx, an unreadable 2xx)
/// the client first looks the order up by our reference and returns it if it exists; only then does it
/// try again. If that lookup itself fails the client stops with `.outcomeUnknown` rather than risk a
/// second order.
public final class RevolutClient: RevolutOrdersAPI {
    private let configuration: RevolutClientConfiguration
    private let session: URLSession
    private let logger: Logger
    private let metrics: MetricsRegistry?
    private let sleep: @Sendable (Duration) async throws -> Void
    private let timeout: TimeInterval

    /// - Parameters:
    ///   - metrics: counts every attempt by operation and outcome, and times it
    ///     (`ServiceMetrics.revolutRequests`, `revolutRequestDuration`).
    ///   - sleep: waits between attempts; tests pass a recorder to avoid real waiting.
    public init(
        configuration: RevolutClientConfiguration,
        logger: Logger,
        metrics: MetricsRegistry? = nil,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.sleep = sleep
        self.timeout = max(configuration.requestTimeout, .seconds(1)).timeInterval
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = timeout
        sessionConfiguration.urlCache = nil
        sessionConfiguration.httpCookieStorage = nil
        self.session = URLSession(configuration: sessionConfiguration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    // MARK: Calls

    /// `POST /api/orders`, guarded against duplicates as described on the type.
    public func createOrder(_ request: RevolutOrderRequest) async throws(RevolutClientError) -> RevolutOrder {
        let body: Data
        do { body = try request.jsonBody() } catch { throw .malformedResponse("could not encode the order") }
        var uncertain = false
        var lastError = RevolutClientError.timedOut
        for attempt in 1...max(1, configuration.maxAttempts) {
            if uncertain, let existing = try await lookUpAfterUncertainty(reference: request.reference) {
                return existing
            }
            uncertain = false
            let outcome = await send(
                .createOrder, method: "POST", path: "/api/orders", query: [:], body: body, attempt: attempt)
            switch classify(outcome) {
            case .success(let data):
                do { return try decode(RevolutOrder.self, from: data) } catch {
                    // The order exists but we cannot read it: find it by reference rather than create again.
                    uncertain = true
                    lastError = error
                    continue
                }
            case .failure(let error):
                throw error
            case .retry(let error, let retryAfter, let mayHaveSideEffects):
                lastError = error
                uncertain = mayHaveSideEffects
                if attempt < configuration.maxAttempts { try await wait(attempt: attempt, retryAfter: retryAfter) }
            }
        }
        if uncertain, let existing = try await lookUpAfterUncertainty(reference: request.reference) {
            return existing
        }
        throw lastError
    }

    /// `GET /api/orders/{id}`.
    public func retrieveOrder(id: String) async throws(RevolutClientError) -> RevolutOrder {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_"))
        guard !id.isEmpty, let escaped = id.addingPercentEncoding(withAllowedCharacters: allowed) else {
            throw .notFound
        }
        let data = try await get(.retrieveOrder, path: "/api/orders/\(escaped)", query: [:])
        return try decode(RevolutOrder.self, from: data)
    }

    /// `GET /api/orders?merchant_order_data_reference=...`, keeping only exact reference matches (the
    /// filter's case rules are not documented).
    public func findOrders(reference: String) async throws(RevolutClientError) -> [RevolutOrder] {
        struct List: Decodable { let orders: [RevolutOrder] }
        let data = try await get(.findOrders, path: "/api/orders", query: ["merchant_order_data_reference": reference])
        return try decode(List.self, from: data).orders.filter { $0.merchantReference == reference }
    }

    // MARK: Retry machinery

    private func lookUpAfterUncertainty(reference: String) async throws(RevolutClientError) -> RevolutOrder? {
        do {
            guard let summary = try await findOrders(reference: reference).first else { return nil }
            logger.info(
                "revolut order found by reference after uncertain create", metadata: ["order_id": "\(summary.id)"])
            // The list holds simplified orders without `checkout_url`: fetch the full one.
            return try await retrieveOrder(id: summary.id)
        } catch .cancelled {
            throw .cancelled
        } catch {
            logger.error("revolut lookup by reference failed", metadata: ["error": "\(error)"])
            throw .outcomeUnknown(reference: reference)
        }
    }

    private func get(_ operation: Operation, path: String, query: [String: String]) async throws(RevolutClientError)
        -> Data
    {
        var lastError = RevolutClientError.timedOut
        for attempt in 1...max(1, configuration.maxAttempts) {
            let outcome = await send(operation, method: "GET", path: path, query: query, body: nil, attempt: attempt)
            switch classify(outcome) {
            case .success(let data): return data
            case .failure(let error): throw error
            case .retry(let error, let retryAfter, _):
                lastError = error
                if attempt < configuration.maxAttempts { try await wait(attempt: attempt, retryAfter: retryAfter) }
            }
        }
        throw lastError
    }

    private func wait(attempt: Int, retryAfter: Duration?) async throws(RevolutClientError) {
        let delay = retryDelay(attempt: attempt, retryAfter: retryAfter)
        do { try await sleep(delay) } catch { throw .cancelled }
    }

    /// `Retry-After` when given (capped at `maxRetryAfter`), otherwise `initialBackoff × 2^(attempt-1)`
    /// capped at `maxBackoff`.
    func retryDelay(attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, configuration.maxRetryAfter) }
        var delay = configuration.initialBackoff
        for _ in 1..<max(1, attempt) where delay < configuration.maxBackoff { delay *= 2 }
        return min(delay, configuration.maxBackoff)
    }

    enum Classified {
        case success(Data)
        case failure(RevolutClientError)
        /// Worth another attempt; `mayHaveSideEffects` when the server may have acted on the request.
        case retry(RevolutClientError, retryAfter: Duration?, mayHaveSideEffects: Bool)
    }

    func classify(_ outcome: TransportOutcome) -> Classified {
        switch outcome {
        case .response(let status, let retryAfter, let data):
            switch status {
            case 200..<300: return .success(data)
            case 404: return .failure(.notFound)
            case 429: return .retry(.rateLimited, retryAfter: retryAfter, mayHaveSideEffects: false)
            case 500..<600:
                return .retry(.serverError(status: status), retryAfter: retryAfter, mayHaveSideEffects: true)
            default: return .failure(Self.rejection(status: status, body: data))
            }
        case .timedOut: return .retry(.timedOut, retryAfter: nil, mayHaveSideEffects: true)
        case .connectionLost(let reason):
            return .retry(.connectionFailed(reason), retryAfter: nil, mayHaveSideEffects: true)
        case .notConnected(let reason):
            return .retry(.connectionFailed(reason), retryAfter: nil, mayHaveSideEffects: false)
        case .cancelled: return .failure(.cancelled)
        }
    }

    /// Revolut's error body: `{"code": ..., "message": ...}` (code may be a string or a number).
    static func rejection(status: Int, body: Data) -> RevolutClientError {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let code = object?["code"].map { "\($0)" }
        let message = object?["message"] as? String
        return .rejected(status: status, code: code, message: message)
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(RevolutClientError) -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw .malformedResponse("could not decode \(T.self)")
        }
    }

    // MARK: Transport

    enum TransportOutcome {
        case response(status: Int, retryAfter: Duration?, body: Data)
        case timedOut
        /// The request may have reached the server (dropped mid-way).
        case connectionLost(String)
        /// The request certainly did not reach the server.
        case notConnected(String)
        case cancelled
    }

    /// The API operations, as metric labels and log fields: a fixed set, never the path (which holds ids).
    enum Operation: String {
        case createOrder = "create_order"
        case retrieveOrder = "retrieve_order"
        case findOrders = "find_orders"
    }

    private func send(
        _ operation: Operation, method: String, path: String, query: [String: String], body: Data?, attempt: Int
    ) async -> TransportOutcome {
        var request = URLRequest(url: url(path: path, query: query))
        request.httpMethod = method
        request.timeoutInterval = timeout
        request.setValue("Bearer \(configuration.secretKey)", forHTTPHeaderField: "Authorization")
        request.setValue(configuration.apiVersion, forHTTPHeaderField: "Revolut-Api-Version")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let started = ContinuousClock.now
        let outcome: TransportOutcome
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { return .connectionLost("not an HTTP response") }
            let retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap(Self.parseRetryAfter)
            outcome = .response(status: http.statusCode, retryAfter: retryAfter, body: data)
        } catch let error as URLError {
            outcome = Self.outcome(for: error)
        } catch {
            outcome = Task.isCancelled ? .cancelled : .connectionLost("\(type(of: error))")
        }
        record(
            operation, method: method, path: path, attempt: attempt, outcome: outcome,
            elapsed: ContinuousClock.now - started)
        return outcome
    }

    static func outcome(for error: URLError) -> TransportOutcome {
        switch error.code {
        case .timedOut: .timedOut
        case .cancelled: .cancelled
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet:
            .notConnected("URLError \(error.code.rawValue)")
        default: .connectionLost("URLError \(error.code.rawValue)")
        }
    }

    /// Delta-seconds only (Revolut sends those); an HTTP-date falls back to our own backoff.
    static func parseRetryAfter(_ value: String) -> Duration? {
        guard let seconds = Int64(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }

    private static let asciiAlphanumerics = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    private func url(path: String, query: [String: String]) -> URL {
        var text = configuration.baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += path
        if !query.isEmpty {
            // RFC 3986 unreserved characters only: `+`, `&` and `=` in a reference must not change the query.
            let allowed = CharacterSet(charactersIn: "-._~").union(Self.asciiAlphanumerics)
            let pairs = query.sorted { $0.key < $1.key }.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
            }
            text += "?" + pairs.joined(separator: "&")
        }
        // Built from a valid base URL and percent-encoded parts, so this cannot fail.
        return URL(string: text)!
    }

    /// One attempt in the metrics (operation and outcome) and the log (method, path, attempt, result and
    /// duration; never headers, so never the secret key). Logged at info: calls are few (purchases and
    /// webhooks), and the line carries the `request_id` of the request that made it (`RequestScope`).
    private func record(
        _ operation: Operation, method: String, path: String, attempt: Int, outcome: TransportOutcome,
        elapsed: Duration
    ) {
        let result: String
        let label: String
        switch outcome {
        case .response(let status, _, _): (result, label) = ("\(status)", "\(status)")
        case .timedOut: (result, label) = ("timeout", "timeout")
        case .connectionLost(let reason): (result, label) = (reason, "connection_lost")
        case .notConnected(let reason): (result, label) = (reason, "not_connected")
        case .cancelled: (result, label) = ("cancelled", "cancelled")
        }
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        metrics?.increment(
            ServiceMetrics.revolutRequests, labels: [Label("operation", operation.rawValue), Label("outcome", label)])
        metrics?.observe(
            ServiceMetrics.revolutRequestDuration, labels: [Label("operation", operation.rawValue)], microseconds: micros)
        logger.info(
            "revolut call",
            metadata: [
                "operation": "\(operation.rawValue)", "method": "\(method)", "path": "\(path)",
                "attempt": .stringConvertible(attempt), "result": "\(result)", "duration_ms": .stringConvertible(micros / 1000),
            ]
        )
    }
}

extension Duration {
    /// Seconds as `TimeInterval`, only for Foundation's timeout properties.
    var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
