import Foundation
import Hummingbird
import Ledger

/// `POST /v1/holds`, `POST /v1/holds/{id}/settle`, `DELETE /v1/holds/{id}`: credits promised to a long job
/// before it runs, settled with the actual credits or released (docs/SERVICE.md, holds).
///
/// Creating a hold passes the credit gate (its early answer, with the rule `hold_exceeds_balance` for an
/// estimate the balance less open holds cannot cover) and is decided again inside its write transaction by
/// the ledger (`LedgerTransaction.createHold`), so concurrent requests never promise more than was
/// spendable. Settling and releasing spend nothing new beyond what the hold promised: they are not gated,
/// and the ledger checks a settlement above the estimate. Every decision is the ledger's `Balance.refusal`.
public enum HoldRoutes {
    /// The hold routes to pass in `ServiceDependencies.holdRoutes`.
    public static func spendingRoutes(ledger: any LiveLedger) -> SpendingRoutes {
        SpendingRoutes(gate: LedgerCreditGate(ledger: ledger)) { request, _ in
            let body = try CreateBody.parse(try await collect(request))
            return SpendIntent(
                organisationID: body.request.organisationID, investigationID: body.request.investigation,
                credits: body.request.credits, commitment: .hold, holdIdempotencyKey: body.request.idempotencyKey)
        } register: { group in
            group.post("holds") { request, context in
                let body = try CreateBody.parse(try await collect(request))
                let outcome = try await write(ledger, context) { try $0.createHold(body.request) }
                return try answer(status: outcome.created ? .created : .ok, hold: outcome.hold, now: ledger.now)
            }
        } registerUngated: { group in
            group.post("holds/:id/settle") { request, context in
                let id = try holdID(context)
                let actual = try SettleBody.parse(try await collect(request))
                let settlement = try await write(ledger, context) {
                    try $0.settleHold(id: id, credits: actual, organisationID: context.principal.organisationID)
                }
                return try answer(
                    status: settlement.posted ? .created : .ok, hold: settlement.hold, now: ledger.now,
                    transferID: settlement.transfer.id)
            }
            group.delete("holds/:id") { _, context in
                let id = try holdID(context)
                let hold = try await write(ledger, context) {
                    try $0.releaseHold(id: id, organisationID: context.principal.organisationID)
                }
                return try answer(status: .ok, hold: hold, now: ledger.now)
            }
        }
    }

    static func collect(_ request: Request) async throws -> Data {
        // Already collected and bounded by BodyLimitMiddleware.
        Data(try await request.body.collect(upTo: .max).readableBytesView)
    }

    static func holdID(_ context: AuthenticatedContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw ProblemDetails(status: .notFound, problem: .holdNotFound, title: "Not Found", detail: "No such hold.")
        }
        return id
    }

    /// Runs a hold change as the caller's key; a refusal becomes its problem.
    static func write<T: Sendable>(
        _ ledger: any LiveLedger, _ context: AuthenticatedContext,
        _ body: @escaping @Sendable (LedgerTransaction) throws -> T
    ) async throws -> T {
        do {
            return try await ledger.write(as: .apiKey(id: context.keyID), body)
        } catch let rejection as HoldRejection {
            throw problem(for: rejection)
        } catch let rejection as PostingRejection {
            // Settling checks the spending rule (with holds) before it posts, so the posting's own checks,
            // which leave holds out, cannot refuse what passed: only input the ledger refuses lands here.
            throw ProblemDetails(
                status: .badRequest, problem: .invalidHold, title: "Bad Request", detail: rejection.description,
                extensions: ["rule": .string(rejection.code)])
        }
    }

    /// The problem for each refusal: 402 for the spending rule, 404 for a hold or organisation the caller
    /// cannot see, 409 for a hold already closed or a key reused, 400 for the rest; `rule` names the code.
    static func problem(for rejection: HoldRejection) -> ProblemDetails {
        let rule: [String: ProblemValue] = ["rule": .string(rejection.kind.rawValue)]
        switch rejection {
        case .refused(let refusal):
            return .paymentRequired(
                refusal, requested: refusal.requested, priority: nil, purchaseHint: CreditsServer.defaultPurchaseHint)
        case .holdNotFound:
            return ProblemDetails(
                status: .notFound, problem: .holdNotFound, title: "Not Found", detail: "No such hold.", extensions: rule)
        case .organisationNotFound:
            return .organisationNotFound
        case .holdAlreadySettled, .holdReleased, .idempotencyKeyReusedWithDifferentContent:
            return ProblemDetails(
                status: .conflict, problem: .holdConflict, title: "Conflict", detail: rejection.description,
                extensions: rule)
        case .idempotencyKeyLength, .estimateMustBePositive, .amountAboveTransferLimit, .expiryOutOfRange,
             .referenceLength, .unknownTeam, .unknownInvestigation, .settleAboveTolerance:
            return invalid(rejection.description, rule: rejection.kind.rawValue)
        }
    }

    static func invalid(_ detail: String, rule: String? = nil) -> ProblemDetails {
        ProblemDetails(
            status: .badRequest, problem: .invalidHold, title: "Bad Request", detail: detail,
            extensions: rule.map { ["rule": .string($0)] } ?? [:])
    }

    struct Answer: Encodable {
        let hold_id: Int64
        let organisation_id: String
        let team: String
        let investigation: String?
        let operation: String
        let credits: Credits
        let status: HoldStatus
        let created_at: String
        let expires_at: String
        let settled_credits: Credits?
        let transfer_id: Int64?
    }

    static func answer(status: HTTPResponse.Status, hold: Hold, now: Instant, transferID: Int64? = nil) throws
        -> Response
    {
        let body = Answer(
            hold_id: hold.id, organisation_id: hold.organisationID, team: hold.team, investigation: hold.investigation,
            operation: hold.operation, credits: hold.credits, status: hold.status(at: now),
            created_at: hold.createdAt.iso8601, expires_at: hold.expiresAt.iso8601,
            settled_credits: hold.settledCredits, transfer_id: transferID ?? hold.settlementTransferID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return CreditsServer.jsonResponse(status: status, body: try encoder.encode(body))
    }
}

/// `POST /v1/holds`'s body: `organisation_id`, `team`, `investigation` (optional), `operation`, `credits`
/// (the estimate: an exact decimal string, or a whole JSON number), `idempotency_key`, and
/// `expires_in_seconds` (1 to `Hold.expirySecondsMax`, default `Hold.expirySecondsDefault`).
struct CreateBody: Decodable {
    let organisation_id: String
    let team: String
    let investigation: String?
    let operation: String
    let credits: CreditsField
    let idempotency_key: String
    let expires_in_seconds: Int64?

    var request: HoldRequest {
        HoldRequest(
            idempotencyKey: idempotency_key, organisationID: organisation_id, team: team, investigation: investigation,
            operation: operation, credits: credits.value, expiresInSeconds: expires_in_seconds ?? Hold.expirySecondsDefault)
    }

    static func parse(_ data: Data) throws(ProblemDetails) -> CreateBody { try HoldJSON.decode(data) }
}

/// `POST /v1/holds/{id}/settle`'s body: `credits`, the actual credits of the job.
struct SettleBody: Decodable {
    let credits: CreditsField

    static func parse(_ data: Data) throws(ProblemDetails) -> Credits { (try HoldJSON.decode(data) as SettleBody).credits.value }
}

/// Credits in a JSON body: an exact decimal string (`"12.5"`), or a whole JSON number up to
/// `Credits.transferMax`; never a fraction through a binary float.
struct CreditsField: Decodable {
    let value: Credits

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            switch Credits.parse(text) {
            case .success(let credits): value = credits
            case .failure(let error): throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
            }
            return
        }
        let whole: Int64
        do {
            whole = try container.decode(Int64.self)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "an exact decimal string such as \"12.5\", or a whole number")
        }
        guard whole.magnitude <= UInt64(Credits.transferMax.microcredits / Credits.unitsPerCredit) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "beyond \(Credits.transferMax) credits")
        }
        value = Credits(whole)
    }
}

/// Decodes a hold route's body; a refusal names the field and what is wrong with it.
enum HoldJSON {
    static func decode<T: Decodable>(_ data: Data) throws(ProblemDetails) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw HoldRoutes.invalid("\(key.stringValue): required")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw HoldRoutes.invalid("\(path(context)): wrong type")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw HoldRoutes.invalid("\(path(context)): \(context.debugDescription)")
        } catch {
            throw HoldRoutes.invalid("the body must be a JSON object")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
}

extension Principal {
    /// The organisation an organisation's key is confined to; nil for a platform admin.
    var organisationID: String? {
        switch self {
        case .organisation(let id): id
        case .platformAdmin: nil
        }
    }
}
