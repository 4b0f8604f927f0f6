import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore

/// Outermost middleware: gives the request one id, logs one structured line per request, echoes the id and
/// records the request metrics.
///
/// The id is, in order: a sane inbound `X-Request-Id`; the trace id of a valid W3C `traceparent`, so the
/// lines join the caller's trace; otherwise 32 new random hex digits (the length of a trace id, always).
/// It replaces Hummingbird's own `hb.request.id`, so every line carries one id, as `request_id`, and it is
/// bound to `RequestScope.requestID` for lines logged through loggers that are not the request's.
///
/// The request line names the caller (`org:<id>` or `admin`) once `BearerAuthenticationMiddleware` has
/// resolved a key; it writes it into the context's shared `RequestCaller`, as it runs further in.
///
/// The route label is the matched route pattern (`/v1/usage`), never the raw path, so clients cannot
/// create unbounded metric series by inventing URLs.
public struct RequestLoggingMiddleware: RouterMiddleware {
    public typealias Context = CreditsRequestContext
    static let header = HTTPField.Name("X-Request-Id")!
    static let traceparent = HTTPField.Name("traceparent")!
    /// Hummingbird's per-request logger metadata key, replaced by `request_id`.
    static let hummingbirdIDKey = "hb.request.id"

    let metrics: MetricsRegistry

    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(for: request.headers)
        context.logger[metadataKey: Self.hummingbirdIDKey] = nil
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await RequestScope.$requestID.withValue(context.requestID) {
                try await next(request, context)
            }
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.header] = context.requestID
        record(request: request, context: context, status: response.status, since: started)
        return response
    }

    private func record(
        request: Request, context: Context, status: HTTPResponse.Status, since: ContinuousClock.Instant
    ) {
        let elapsed = ContinuousClock.now - since
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let route = context.endpointPath.map { $0 == "NotFound" ? "unmatched" : $0 } ?? "unmatched"
        metrics.increment(
            ServiceMetrics.requests,
            labels: [Label("method", request.method.rawValue), Label("route", route), Label("status", "\(status.code)")]
        )
        metrics.observe(ServiceMetrics.requestDuration, labels: [Label("route", route)], microseconds: micros)
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route),
            "status": .stringConvertible(status.code), "duration_us": .stringConvertible(micros),
        ]
        if let caller = context.caller.label { metadata["caller"] = .string(caller) }
        context.logger.info("request", metadata: metadata)
    }

    /// The id for a request with these headers (see the type).
    static func requestID(for headers: HTTPFields) -> String {
        headers[header].flatMap(acceptableID) ?? headers[traceparent].flatMap(traceID) ?? newID()
    }

    /// Up to 128 characters of `[A-Za-z0-9._-]`; anything else could inject into logs, so it is replaced.
    static func acceptableID(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128 else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                true
            default: false
            }
        }
        return allowed ? value : nil
    }

    /// The trace id of a W3C `traceparent` (`version-traceid-parentid-flags`: 2, 32, 16 and 2 lowercase hex
    /// digits; version `ff` and all-zero ids are invalid). Later versions may append fields, so only the
    /// first four are read.
    static func traceID(_ value: String) -> String? {
        let fields = value[...].trimmingASCIISpaces().split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0] != "ff", fields[0].count == 2, fields[1].count == 32, fields[2].count == 16,
            fields[3].count == 2, fields[0...3].allSatisfy({ $0.utf8.allSatisfy(isLowercaseHex) }),
            fields[0] != "00" || fields.count == 4
        else { return nil }
        let allZero: (Substring) -> Bool = { $0.utf8.allSatisfy { $0 == UInt8(ascii: "0") } }
        guard !allZero(fields[1]), !allZero(fields[2]) else { return nil }
        return String(fields[1])
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// 128 random bits as 32 lowercase hex digits, zero-padded so every generated id has the same length.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(generator.next()) + hex(generator.next())
    }
}

/// Turns every error into an `application/problem+json` response: problems pass through, a busy ledger
/// or an unreachable PostgreSQL database is a 503 with `Retry-After`, Hummingbird's own `HTTPError`s (404, 405, a bad JSON
/// body) keep their status with a generic body, and anything else becomes a 500 whose body says nothing
/// about the cause; the cause is logged with the request id.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var problem: ProblemDetails
        do {
            return try await next(request, context)
        } catch let thrown as ProblemDetails {
            problem = thrown
        } catch let error as StorageError where error.reason == .busy {
            // Another process (a batch stage) holds the ledger: worth retrying, nothing was half-applied.
            context.logger.warning("ledger busy", metadata: ["error.type": .string("\(type(of: error))")])
            problem = .ledgerBusy
        } catch let error as PostgresStoreError where error.isUnreachable {
            // The database cannot be reached or the connection was lost mid-request (a restart, a failover):
            // not the request's fault, and worth retrying with the same idempotency key, which posts at most
            // once. (A SQLite file's I/O error or corruption is no such thing: it stays a 500.)
            context.logger.warning("ledger unavailable", metadata: ["error": .string(error.description)])
            problem = .ledgerUnavailable
        } catch let error as any HTTPResponseError {
            // Hummingbird's HTTPError messages are written for clients (decode failures, not found).
            problem = error.status == .contentTooLarge
                ? .generic(.contentTooLarge) : .generic(error.status, detail: (error as? HTTPError)?.body)
        } catch {
            // The operator's detail, never the client's: a classified error says what failed (its text names no
            // secret: PostgreSQL errors carry the URL without its password).
            var metadata: Logger.Metadata = ["error.type": .string("\(type(of: error))")]
            if let classified = error as? any ClassifiedError { metadata["error"] = .string(classified.description) }
            context.logger.error("unhandled error", metadata: metadata)
            problem = .generic(.internalServerError)
        }
        // RFC 9457 `instance`: this occurrence, named by the request id the response echoes.
        if problem.instance == nil { problem.instance = RequestScope.requestID }
        return try problem.response(from: request, context: context)
    }
}

/// Caps request bodies: a declared `Content-Length` over the limit is refused before reading anything,
/// and a chunked body is read only up to the limit. The collected body replaces the stream, so handlers
/// read at most `limit` bytes whatever they call.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw ProblemDetails.bodyTooLarge(limit: limit)
        }
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ProblemDetails.bodyTooLarge(limit: limit)
        }
        return try await next(request, context)
    }
}

/// Resolves `Authorization: Bearer ck_...` through the key store and records the principal in the
/// context. It never refuses by itself: `AuthenticatedContext` does, so public routes stay public.
public struct BearerAuthenticationMiddleware: RouterMiddleware {
    public typealias Context = CreditsRequestContext

    let store: any APIKeyStore

    public init(store: any APIKeyStore) {
        self.store = store
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = nil
        context.keyID = nil
        if let header = request.headers[.authorization], let hash = Self.keyHash(fromAuthorization: header) {
            context.principal = try await store.principal(for: hash)
            context.keyID = context.principal == nil ? nil : hash.id
        }
        if let principal = context.principal {
            // One name for the caller on every line: the request line's `caller` and this logger's agree.
            context.logger[metadataKey: "caller"] = .string(principal.logLabel)
            context.caller.label = principal.logLabel
        }
        return try await next(request, context)
    }

    /// The hash of the key in `Bearer <key>` (scheme case-insensitive), or nil when malformed.
    static func keyHash(fromAuthorization header: String) -> APIKeyHash? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return APIKey.hash(presented: String(parts[1].trimmingASCIISpaces()))
    }
}

extension Principal {
    /// What logs say about the caller: the organisation id or `admin`, never the key.
    var logLabel: String {
        switch self {
        case .platformAdmin: "admin"
        case .organisation(let id): "org:\(id)"
        }
    }
}
