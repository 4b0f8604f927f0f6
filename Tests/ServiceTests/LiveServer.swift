import Testing
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A logger that keeps test output readable; raise the level when debugging.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG"] == nil ? .critical : .trace
    return logger
}

/// Starts an application on 127.0.0.1 with an OS-assigned port, runs `body` with that port, then stops the
/// application (cancelling its service group) whether `body` returned or threw.
func withLiveApplication<App: ServiceLifecycle.Service, R: Sendable>(
    _ makeApplication: (@escaping @Sendable (Int) async -> Void) throws -> App,
    _ body: (Int) async throws -> R
) async throws -> R {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = try makeApplication { port in continuation.yield(port) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            group.cancelAll()
            throw LiveServerError.didNotStart
        }
        do {
            let result = try await body(port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

enum LiveServerError: Error {
    case didNotStart
    case timedOut
}

/// A plain HTTP answer, read with URLSession (no HummingbirdTesting: it would build AsyncHTTPClient and NIOSSL).
struct HTTPAnswer: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }
}

/// One request over loopback. A minute by default: in the full suite on two cores the requests of a test
/// that sends dozens at once (to a PostgreSQL ledger, a round trip per statement) wait for CPU behind every
/// other suite, and in a clean-clone CI run one such request took over 10 s. A test that means a short wait
/// says so.
func send(
    _ method: String, _ url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 60
) async throws -> HTTPAnswer {
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.timeoutInterval = timeout
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body
    let session = URLSession(configuration: .ephemeral)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
        if let name = name as? String, let value = value as? String { fields[name] = value }
    }
    return HTTPAnswer(status: http.statusCode, headers: fields, body: data)
}
