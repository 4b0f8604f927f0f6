import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP POST of an alert.
public struct WebhookRequest: Sendable, Hashable {
    public var url: URL
    public var headers: [String: String]
    public var body: Data

    public init(url: URL, headers: [String: String], body: Data) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What came back: an HTTP status, or why no response arrived.
public enum WebhookResponse: Sendable, Hashable {
    case status(Int)
    case failure(String)

    /// Only a 2xx response counts as delivered.
    public var delivered: Bool {
        if case .status(let code) = self { return (200..<300).contains(code) }
        return false
    }

    public var errorText: String {
        switch self {
        case .status(let code): "HTTP \(code)"
        case .failure(let message): message
        }
    }
}

/// The seam between alert delivery and the network, so tests can count or refuse requests.
public protocol WebhookTransport: Sendable {
    /// Sends the request and waits for the response (or the timeout).
    func send(_ request: WebhookRequest) -> WebhookResponse
}

/// Sends with URLSession, synchronously, with a short timeout: a stuck receiver must not hold up
/// the nightly run; a failed attempt is simply retried by a later run.
public struct URLSessionWebhookTransport: WebhookTransport {
    public var timeoutSeconds: Int

    public init(timeoutSeconds: Int = 5) {
        precondition(timeoutSeconds > 0, "a webhook timeout must be positive")
        self.timeoutSeconds = timeoutSeconds
    }

    public func send(_ request: WebhookRequest) -> WebhookResponse {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = TimeInterval(timeoutSeconds)
        configuration.timeoutIntervalForResource = TimeInterval(timeoutSeconds * 2)
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        var urlRequest = URLRequest(url: request.url, timeoutInterval: TimeInterval(timeoutSeconds))
        urlRequest.httpMethod = "POST"
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { _, response, error in
            if let error {
                box.value = .failure(error.localizedDescription)
            } else if let http = response as? HTTPURLResponse {
                box.value = .status(http.statusCode)
            } else {
                box.value = .failure("no HTTP response")
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return box.value
    }
}

/// Carries the response out of URLSession's callback; the semaphore orders the write before the read.
private final class ResponseBox: @unchecked Sendable {
    var value: WebhookResponse = .failure("no response")
}
