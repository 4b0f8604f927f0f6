import HTTPTypes
import Hummingbird
import Ledger

/// The work a request wants to spend credits on, as the gate needs to judge it.
public struct SpendIntent: Sendable, Equatable {
    public let organisationID: String
    /// The investigation the work belongs to; its priority decides whether reserved credits may be used.
    public let investigationID: String?
    /// The cost when the request states it; nil when only known after the work.
    public let credits: Credits?
    /// The cost event being charged, when there is one: a retry of an event already charged passes the gate
    /// so it gets its duplicate answer instead of a 402.
    public let costEventID: String?

    public init(
        organisationID: String, investigationID: String? = nil, credits: Credits? = nil, costEventID: String? = nil
    ) {
        self.organisationID = organisationID
        self.investigationID = investigationID
        self.credits = credits
        self.costEventID = costEventID
    }
}

/// The gate's answer for one intent. A refusal names the ledger's own `SpendBlock` rule, so the 402 says
/// what the posting would have said.
public enum GateDecision: Sendable, Equatable {
    case allow
    case refuse(spendable: Credits, rule: SpendBlock, priority: Int?)
}

/// Decides whether an organisation may spend on some work. The ledger-backed gate reads the spendable
/// balance for the investigation's priority (ARCHITECTURE.md, reservations).
public protocol CreditGate: Sendable {
    func decide(_ intent: SpendIntent) async throws -> GateDecision
}

/// Middleware on every route that spends credits: works out the intent from the request, refuses a key of
/// another organisation (403), and answers 402 `application/problem+json` when the gate refuses.
///
/// The intent extractor reads the request (its body is already buffered by `BodyLimitMiddleware`); a
/// malformed body should make it throw a 400 problem.
public struct CreditGateMiddleware: RouterMiddleware {
    public typealias Context = AuthenticatedContext

    let gate: any CreditGate
    let intent: @Sendable (Request, AuthenticatedContext) async throws -> SpendIntent
    let purchaseHint: String
    let metrics: MetricsRegistry

    /// - Parameters:
    ///   - purchaseHint: where a refused caller can buy credits, shown in the 402 body.
    public init(
        gate: any CreditGate,
        metrics: MetricsRegistry,
        purchaseHint: String = CreditsServer.defaultPurchaseHint,
        intent: @escaping @Sendable (Request, AuthenticatedContext) async throws -> SpendIntent
    ) {
        self.gate = gate
        self.metrics = metrics
        self.purchaseHint = purchaseHint
        self.intent = intent
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let intent = try await intent(request, context)
        guard context.principal.mayAccess(organisationID: intent.organisationID) else {
            count("forbidden")
            throw ProblemDetails.forbidden
        }
        switch try await gate.decide(intent) {
        case .allow:
            count("allowed")
            return try await next(request, context)
        case .refuse(let spendable, let rule, let priority):
            count("refused_\(rule.rawValue)")
            throw ProblemDetails.paymentRequired(
                organisationID: intent.organisationID, requested: intent.credits, spendable: spendable, rule: rule,
                priority: priority, purchaseHint: purchaseHint)
        }
    }

    private func count(_ decision: String) {
        metrics.increment(ServiceMetrics.gateDecisions, labels: [Label("decision", decision)])
    }
}

extension ProblemDetails {
    /// The gate's 402: type, title, status, detail, plus the credits requested (when the request states
    /// them) and spendable (exact decimal text), the blocking rule (`SpendBlock`), the priority judged and
    /// where to buy credits.
    public static func paymentRequired(
        organisationID: String, requested: Credits?, spendable: Credits, rule: SpendBlock, priority: Int?,
        purchaseHint: String
    ) -> ProblemDetails {
        let work = priority.map { "P\($0) work" } ?? "this work"
        let asked = requested.map { "\($0) credits requested; " } ?? ""
        let reason = switch rule {
        case .insufficientBalance: "\(asked)\(spendable) spendable for \(work)"
        case .reserveFloor: "\(asked)\(spendable) spendable for \(work), the rest is reserved for higher-priority investigations"
        }
        var extensions: [String: ProblemValue] = [
            "organisation_id": .string(organisationID),
            "spendable_credits": .string(spendable.description),
            "rule": .string(rule.rawValue),
            "purchase": .string(purchaseHint),
        ]
        if let requested { extensions["requested_credits"] = .string(requested.description) }
        if let priority { extensions["priority"] = .integer(Int64(priority)) }
        return ProblemDetails(
            status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"),
            type: "/problems/insufficient-credits",
            title: "Payment Required",
            detail: "Organisation \(organisationID): \(reason).",
            extensions: extensions
        )
    }
}
