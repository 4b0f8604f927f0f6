import Foundation
import HTTPTypes
import Hummingbird
import Ledger

/// An RFC 9457 `application/problem+json` error. Thrown by handlers and middleware; Hummingbird turns any
/// `HTTPResponseError` into its response, so throwing one is all a handler does.
public struct ProblemDetails: Error, HTTPResponseError, Sendable, Equatable {
    /// The media type of every error body the service sends.
    public static let mediaType = "application/problem+json"

    public var status: HTTPResponse.Status
    /// An absolute URI naming the problem kind (`ProblemType.uri`, or `about:blank`), stable for clients to
    /// switch on.
    public var type: String
    public var title: String
    public var detail: String?
    /// This occurrence: the request id (`X-Request-Id`), filled in by `ProblemMiddleware` when not set.
    public var instance: String?
    /// Extra members (e.g. the gate's spendable balance); never secrets or internal error text.
    public var extensions: [String: ProblemValue]
    /// Extra response headers such as `WWW-Authenticate` or `Retry-After`.
    public var headers: [String: String]

    public init(
        status: HTTPResponse.Status,
        type: String,
        title: String,
        detail: String? = nil,
        extensions: [String: ProblemValue] = [:],
        headers: [String: String] = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    /// A problem of one of the service's own kinds (`ProblemType`).
    public init(
        status: HTTPResponse.Status, problem: ProblemType, title: String, detail: String? = nil,
        extensions: [String: ProblemValue] = [:], headers: [String: String] = [:]
    ) {
        self.init(status: status, type: problem.uri, title: title, detail: detail, extensions: extensions,
                  headers: headers)
    }

    /// The JSON object: `type`, `title`, `status`, `detail` and any extensions, keys sorted.
    public var jsonBody: Data {
        var members = extensions
        members["type"] = .string(type)
        members["title"] = .string(title)
        members["status"] = .integer(Int64(status.code))
        if let detail { members["detail"] = .string(detail) }
        if let instance { members["instance"] = .string(instance) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a dictionary of strings and integers cannot fail.
        return (try? encoder.encode(members)) ?? Data("{}".utf8)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = Self.mediaType
        for (name, value) in headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }
}

/// The service's problem kinds: each an absolute `type` URI (RFC 9457 section 3.1.1), a `tag:` URI
/// (RFC 4151) since it names a kind and is not meant to be fetched. docs/CODES.md lists them.
public enum ProblemType: String, Sendable, Hashable, CaseIterable {
    case unauthorized, forbidden
    case organisationNotFound = "organisation-not-found"
    case invalidCostEvent = "invalid-cost-event"
    case costEventConflict = "cost-event-conflict"
    /// The 402s, one per `SpendBlock` rule.
    case insufficientBalance = "insufficient-balance"
    case reserveFloor = "reserve-floor"
    case holdExceedsBalance = "hold-exceeds-balance"
    case budgetExceeded = "budget-exceeded"
    case invalidHold = "invalid-hold"
    case holdNotFound = "hold-not-found"
    case holdConflict = "hold-conflict"
    case bodyTooLarge = "body-too-large"
    case webhookSignature = "webhook-signature"
    case webhookBody = "webhook-body"
    case ledgerBusy = "ledger-busy"
    case ledgerUnavailable = "ledger-unavailable"
    case retryLater = "retry-later"

    /// What every type URI starts with.
    public static let uriPrefix = "tag:credits,2026:problems/"

    public var uri: String { Self.uriPrefix + rawValue }

    /// The 402 type of a spending rule.
    public init(_ rule: SpendBlock) {
        self = switch rule {
        case .insufficientBalance: .insufficientBalance
        case .reserveFloor: .reserveFloor
        case .holdExceedsBalance: .holdExceedsBalance
        case .budgetExceeded: .budgetExceeded
        }
    }
}

/// A JSON scalar allowed as a problem extension member.
public enum ProblemValue: Sendable, Equatable, Encodable {
    case string(String)
    case integer(Int64)
    case bool(Bool)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

extension ProblemDetails {
    /// The problem for a bare status, used when the framework or an unexpected error produced it.
    public static func generic(_ status: HTTPResponse.Status, detail: String? = nil) -> ProblemDetails {
        ProblemDetails(status: status, type: "about:blank", title: status.reasonPhrase, detail: detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`; the detail never says which part of the key was wrong.
    public static let unauthorized = ProblemDetails(
        status: .unauthorized,
        problem: .unauthorized,
        title: "Unauthorized",
        detail: "A valid API key is required: Authorization: Bearer ck_...",
        headers: ["WWW-Authenticate": "Bearer"]
    )

    /// 403 for a principal that is authenticated but not allowed this operation.
    public static let forbidden = ProblemDetails(
        status: .forbidden, problem: .forbidden, title: "Forbidden",
        detail: "This API key may not perform this operation."
    )

    /// 503 while another process holds the ledger's write lock past the busy timeout (TESTPLAN F3).
    public static let ledgerBusy = ProblemDetails(
        status: .serviceUnavailable, problem: .ledgerBusy, title: "Service Unavailable",
        detail: "The ledger is busy; nothing was changed. Retry shortly.", headers: ["Retry-After": "1"])

    /// 503 while the ledger's database cannot be reached (a PostgreSQL restart or failover, a lost connection).
    public static let ledgerUnavailable = ProblemDetails(
        status: .serviceUnavailable, problem: .ledgerUnavailable, title: "Service Unavailable",
        detail: "The ledger's database cannot be reached right now. Retry shortly with the same idempotency key.",
        headers: ["Retry-After": "1"])

    /// 413 naming the limit, so a client knows how far to shrink.
    public static func bodyTooLarge(limit: Int) -> ProblemDetails {
        ProblemDetails(
            status: .contentTooLarge, problem: .bodyTooLarge, title: "Content Too Large",
            detail: "The request body exceeds the limit of \(limit) bytes.",
            extensions: ["limit": .integer(Int64(limit))]
        )
    }
}
