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
    /// When the work takes effect (a cost event's `occurred_at`); nil for now. Grants expired by then are
    /// not spendable, as the posting judges it.
    public let effectiveAt: Instant?
    /// Whether the work is charged now or held for later (`hold_exceeds_balance` names a refused hold).
    public let commitment: SpendCommitment
    /// The hold's idempotency key, for a hold: a retry of a hold already made passes the gate so it gets its
    /// earlier answer (or its 409) instead of a 402 from the credits it holds itself.
    public let holdIdempotencyKey: String?

    public init(
        organisationID: String, investigationID: String? = nil, credits: Credits? = nil, costEventID: String? = nil,
        effectiveAt: Instant? = nil, commitment: SpendCommitment = .charge, holdIdempotencyKey: String? = nil
    ) {
        self.organisationID = organisationID
        self.investigationID = investigationID
        self.credits = credits
        self.costEventID = costEventID
        self.effectiveAt = effectiveAt
        self.commitment = commitment
        self.holdIdempotencyKey = holdIdempotencyKey
    }
}

/// The gate's answer for one intent. A refusal names the ledger's own `SpendBlock` rule, so the 402 says
/// what the posting would have said.
public enum GateDecision: Sendable, Equatable {
    case allow
    /// The ledger's refusal, and the priority (1...4) the work was judged at, nil for none.
    case refuse(SpendRefusal, priority: Int?)
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
        case .refuse(let refusal, let priority):
            count("refused_\(refusal.rule.rawValue)")
            throw ProblemDetails.paymentRequired(
                refusal, requested: intent.credits, priority: priority, purchaseHint: purchaseHint)
        }
    }

    private func count(_ decision: String) {
        metrics.increment(ServiceMetrics.gateDecisions, labels: [Label("decision", decision)])
    }
}

extension ProblemDetails {
    /// The gate's 402, for every route that spends or holds credits: `type` names the rule
    /// (`ProblemType(rule)`), and the members say what blocked and by how much: `rule` (`SpendBlock`),
    /// `scope` and `scope_id` (the organisation, team or investigation whose rule refused),
    /// `organisation_id`, `requested_credits` (when the request states them), `spendable_credits` (what
    /// the work may still spend, never below zero), `priority` (the priority judged, when there is one),
    /// for a budget `budget_limit_credits`, `budget_used_credits` and `budget_resets_at`, and where to buy
    /// credits. `instance` is the request id.
    public static func paymentRequired(
        _ refusal: SpendRefusal, requested: Credits?, priority: Int?, purchaseHint: String
    ) -> ProblemDetails {
        let work = priority.map { "P\($0) work" } ?? "this work"
        let asked = requested.map { "\($0) credits requested; " } ?? ""
        let reason = switch refusal.rule {
        case .insufficientBalance: "\(asked)\(refusal.spendable) spendable for \(work)"
        case .reserveFloor:
            "\(asked)\(refusal.spendable) spendable for \(work), the rest is reserved for higher-priority investigations"
        case .holdExceedsBalance:
            "\(asked)only \(refusal.spendable) can still be held for \(work) (the balance less open holds and reserves)"
        case .budgetExceeded: "\(asked)the \(refusal.scope.kind.rawValue) budget allows \(refusal.spendable) more"
        }
        let organisationID = refusal.scope.kind == .organisation ? refusal.scope.id : nil
        var extensions: [String: ProblemValue] = [
            "spendable_credits": .string(refusal.spendable.description),
            "rule": .string(refusal.rule.rawValue),
            "scope": .string(refusal.scope.kind.rawValue),
            "scope_id": .string(refusal.scope.id),
            "purchase": .string(purchaseHint),
        ]
        if let organisationID { extensions["organisation_id"] = .string(organisationID) }
        if let requested { extensions["requested_credits"] = .string(requested.description) }
        if let priority { extensions["priority"] = .integer(Int64(priority)) }
        if let budget = refusal.budget {
            extensions["budget_limit_credits"] = .string(budget.limit.description)
            extensions["budget_used_credits"] = .string(budget.used.description)
            if let resetsAt = budget.resetsAt { extensions["budget_resets_at"] = .string(resetsAt.iso8601) }
        }
        let subject = "\(refusal.scope.kind == .organisation ? "Organisation" : refusal.scope.kind.rawValue.capitalized) \(refusal.scope.id)"
        return ProblemDetails(
            status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"),
            problem: ProblemType(refusal.rule),
            title: "Payment Required",
            detail: "\(subject): \(reason).",
            extensions: extensions
        )
    }
}
