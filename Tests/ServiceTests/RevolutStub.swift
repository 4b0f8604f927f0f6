import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A local stand-in for the Revolut Merchant API (the only stand-in TESTPLAN allows): create, retrieve
/// and list-by-reference orders, scripted faults, and a record of every request so tests can assert
/// headers. Bound to 127.0.0.1 on an OS-assigned port; stops when the test's closure returns.
final class RevolutStub: Sendable {
    enum Route: String, Sendable {
        case create = "POST /api/orders"
        case retrieve = "GET /api/orders/{id}"
        case list = "GET /api/orders"
    }

    /// One scripted misbehaviour, consumed by the next request to its route.
    enum Fault: Sendable {
        /// Wait, then answer normally (with `afterProcessing`, the order is created before the wait).
        case slow(Duration, afterProcessing: Bool)
        /// Answer this status (and `Retry-After`) instead; with `afterProcessing` the order is created first.
        case status(Int, retryAfter: String?, afterProcessing: Bool)
        /// Answer 2xx with a body that is not JSON (the order is created).
        case malformedJSON
        /// Start a response and break the connection (the order is created).
        case drop
    }

    struct RecordedRequest: Sendable {
        let method: String
        let path: String
        let query: String?
        let headers: [String: String]
        let body: Data
    }

    private struct State {
        var orders: [String: [String: StubJSON]] = [:]
        var orderIDs: [String] = []
        var requests: [RecordedRequest] = []
        var faults: [Route: [Fault]] = [:]
    }

    let secretKey: String
    private let state = Mutex(State())

    init(secretKey: String = "sk_test_stub_secret") {
        self.secretKey = secretKey
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var orderCount: Int { state.withLock { $0.orders.count } }

    func enqueue(_ fault: Fault, for route: Route) {
        state.withLock { $0.faults[route, default: []].append(fault) }
    }

    func setState(_ orderState: String, orderID: String) {
        state.withLock { $0.orders[orderID]?["state"] = .string(orderState) }
    }

    /// Runs the stub for the duration of `body`, passing its base URL.
    func run<R: Sendable>(_ body: (URL) async throws -> R) async throws -> R {
        try await withLiveApplication({ onRunning in
            Application(
                router: self.router(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "revolut-stub"),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) },
                logger: quietLogger("revolut-stub")
            )
        }) { port in
            try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }

    // MARK: Routes

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("api/orders") { request, context in
            try await self.handle(.create, request) { body in try self.create(body) }
        }
        router.get("api/orders/:id") { request, context in
            let id = try context.parameters.require("id")
            return try await self.handle(.retrieve, request) { _ in
                guard let order = self.state.withLock({ $0.orders[id] }) else {
                    return (404, .object(["code": .string("not_found"), "message": .string("Order not found")]))
                }
                return (200, .object(order))
            }
        }
        router.get("api/orders") { request, context in
            let reference = request.uri.queryParameters.get("merchant_order_data_reference")
            return try await self.handle(.list, request) { _ in
                let orders = self.state.withLock { state in
                    state.orderIDs.compactMap { state.orders[$0] }.filter { order in
                        guard let reference else { return true }
                        return order["merchant_order_data"]?.member("reference") == .string(reference)
                    }
                }
                return (200, .object(["orders": .array(orders.map { .object($0) })]))
            }
        }
        return router
    }

    /// Records the request, checks the key, applies the next scripted fault, and renders the JSON answer.
    private func handle(
        _ route: Route, _ request: Request, _ process: @Sendable (Data) throws -> (Int, StubJSON)
    ) async throws -> Response {
        var request = request
        let body = Data((try await request.collectBody(upTo: 1 << 20)).readableBytesView)
        record(request, body: body)
        guard request.headers[.authorization] == "Bearer \(secretKey)" else {
            return json(401, .object(["code": .string("unauthenticated"), "message": .string("Invalid key")]))
        }
        let fault = state.withLock { $0.faults[route]?.isEmpty == false ? $0.faults[route]!.removeFirst() : nil }
        switch fault {
        case nil:
            let (status, value) = try process(body)
            return json(status, value)
        case .slow(let delay, let afterProcessing):
            let result = afterProcessing ? try process(body) : nil
            try await Task.sleep(for: delay)
            let (status, value) = try result ?? process(body)
            return json(status, value)
        case .status(let status, let retryAfter, let afterProcessing):
            if afterProcessing { _ = try process(body) }
            var response = json(status, .object(["code": .string("stub_fault"), "message": .string("scripted")]))
            if let retryAfter { response.headers[.retryAfter] = retryAfter }
            return response
        case .malformedJSON:
            _ = try process(body)
            return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: "{\"id\": \"trunc")))
        case .drop:
            _ = try process(body)
            // Headers go out, then the body stream fails: the server closes the connection mid-response.
            return Response(status: .created, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "{\"id\":"))
                throw CancellationError()
            })
        }
    }

    private func create(_ body: Data) throws -> (Int, StubJSON) {
        guard case .object(let input)? = try? JSONDecoder().decode(StubJSON.self, from: body),
            case .number(let amount)? = input["amount"], case .string(let currency)? = input["currency"]
        else {
            return (400, .object(["code": .string("bad_request"), "message": .string("amount and currency required")]))
        }
        let id = UUID().uuidString.lowercased()
        let token = UUID().uuidString.lowercased()
        var order: [String: StubJSON] = [
            "id": .string(id), "token": .string(token), "type": .string("payment"), "state": .string("pending"),
            "created_at": .string("2026-01-01T00:00:00.000000Z"), "updated_at": .string("2026-01-01T00:00:00.000000Z"),
            "amount": .number(amount), "currency": .string(currency), "outstanding_amount": .number(amount),
            "capture_mode": .string("automatic"),
            "checkout_url": .string("https://checkout.stub/payment-link/\(token)"),
            "enforce_challenge": .string("automatic"),
        ]
        for key in ["description", "metadata", "merchant_order_data"] { order[key] = input[key] }
        state.withLock { state in
            state.orders[id] = order
            state.orderIDs.append(id)
        }
        return (201, .object(order))
    }

    private func record(_ request: Request, body: Data) {
        var headers: [String: String] = [:]  // keyed by lower-case name
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers,
            body: body)
        state.withLock { $0.requests.append(recorded) }
    }

    private func json(_ status: Int, _ value: StubJSON) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A tiny JSON value for the stub's order store (integers only: Revolut amounts are minor units).
enum StubJSON: Codable, Sendable, Equatable {
    case string(String)
    case number(Int64)
    case bool(Bool)
    case null
    case array([StubJSON])
    case object([String: StubJSON])

    func member(_ key: String) -> StubJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([StubJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: StubJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
