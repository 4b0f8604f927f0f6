import Crypto
import Foundation
import Hummingbird
import Ledger

/// One cost event posted live to `POST /v1/usage` (PRODUCT.md, cost events).
///
/// Fields: `event_id`, `organisation_id`, `team`, optional `investigation`, `operation`, `credits` (exact
/// decimal as a JSON string or number, positive, at most six decimals), `occurred_at` (ISO 8601 with an
/// offset) and optional free-form `attributes`. Pricing by `quantity` + `unit` is left to batch ingest.
/// Until Ingest's validator is shared, this is a strict subset of the batch schema.
public struct LiveCostEvent: Sendable, Equatable {
    public let eventID: String
    public let organisationID: String
    public let team: String
    public let investigation: String?
    public let operation: String
    public let credits: Credits
    public let occurredAt: Instant
    public let attributesJSON: String?

    /// Parses and validates a request body; the error names the field and the rule.
    public static func parse(_ body: Data) throws(ProblemDetails) -> LiveCostEvent {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw invalid("the body must be a JSON object")
        }
        let wire: Wire
        do { wire = try JSONDecoder().decode(Wire.self, from: body) } catch {
            throw invalid("event_id, organisation_id, team, operation and occurred_at must be strings")
        }
        for (name, value) in [("event_id", wire.event_id), ("organisation_id", wire.organisation_id),
            ("team", wire.team), ("operation", wire.operation)]
        where value.isEmpty || value.utf8.count > 200 {
            throw invalid("\(name) must be 1 to 200 characters")
        }
        guard let creditsText = wire.credits?.text else { throw invalid("credits is required") }
        let credits: Credits
        switch Credits.parse(creditsText) {
        case .success(let value) where value.isPositive: credits = value
        case .success: throw invalid("credits must be positive")
        case .failure(let error): throw invalid("credits \(creditsText): \(error)")
        }
        let occurredAt: Instant
        switch Instant.parse(wire.occurred_at) {
        case .success(let value): occurredAt = value
        case .failure(let error): throw invalid("occurred_at \(wire.occurred_at): \(error)")
        }
        return LiveCostEvent(
            eventID: wire.event_id, organisationID: wire.organisation_id, team: wire.team,
            investigation: wire.investigation, operation: wire.operation, credits: credits, occurredAt: occurredAt,
            attributesJSON: try attributes(object["attributes"]))
    }

    /// SHA-256 over the canonical content, so the same event sent twice is a duplicate and a different
    /// event under the same id a conflict.
    public var contentHash: String {
        let fields = [
            eventID, organisationID, team, investigation ?? "", operation, String(credits.microcredits),
            String(occurredAt.millisecondsSinceEpoch), attributesJSON ?? "",
        ]
        let digest = SHA256.hash(data: Array(fields.joined(separator: "\u{1F}").utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The event as staging stores it; `sourceFile` says it came through the live API.
    public var staged: StagedCostEvent {
        StagedCostEvent(
            eventID: eventID, contentHash: contentHash, organisationID: organisationID, team: team,
            investigation: investigation, operation: operation, credits: credits, occurredAt: occurredAt,
            attributesJSON: attributesJSON, sourceFile: "POST /v1/usage", sourceLine: 0)
    }

    private struct Wire: Decodable {
        let event_id: String
        let organisation_id: String
        let team: String
        let investigation: String?
        let operation: String
        let credits: DecimalText?
        let occurred_at: String
    }

    /// A JSON string, or a JSON number read as `Decimal` (base 10, so no binary rounding), as text.
    private struct DecimalText: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else {
                text = try container.decode(Decimal.self).description
            }
        }
    }

    private static func attributes(_ value: Any?) throws(ProblemDetails) -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        else { throw invalid("attributes must be a JSON object or array") }
        return String(decoding: data, as: UTF8.self)
    }

    static func invalid(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .badRequest, type: "/problems/invalid-cost-event", title: "Bad Request", detail: detail)
    }
}

/// `POST /v1/usage`: records a cost event and charges it at once, behind the credit gate.
///
/// In one write transaction the event is staged (same table and dedupe as batch ingest) and, if new, charged
/// as a deduction keyed `deduction:cost-event:<event_id>` (the key reconcile uses) within the spendable
/// balance for the work's priority. If a concurrent request took the credits after the gate's check, the
/// ledger refuses the spend, the staging rolls back with it, and the answer is 402. Answers: 201 recorded,
/// 200 duplicate (same id and content), 409 conflict (same id, other content), 402, 403, 400.
public enum UsageRoute {
    /// The spending routes to pass in `ServiceDependencies.spendingRoutes`.
    public static func spendingRoutes(ledger: LedgerDatabase) -> SpendingRoutes {
        SpendingRoutes(gate: LedgerCreditGate(ledger: ledger)) { request, _ in
            let event = try await event(from: request)
            return SpendIntent(
                organisationID: event.organisationID, investigationID: event.investigation, credits: event.credits,
                costEventID: event.eventID)
        } register: { group in
            group.post("usage") { request, _ in
                try await record(try await event(from: request), in: ledger)
            }
        }
    }

    /// The idempotency key of the deduction that charges a cost event (the same as reconcile's).
    public static func deductionKey(eventID: String) -> String { "deduction:cost-event:\(eventID)" }

    static func event(from request: Request) async throws -> LiveCostEvent {
        // Already collected and bounded by BodyLimitMiddleware.
        let body = try await request.body.collect(upTo: .max)
        return try LiveCostEvent.parse(Data(body.readableBytesView))
    }

    struct Answer: Encodable {
        let status: String
        let event_id: String
        let transfer_id: Int64?
    }

    static func record(_ event: LiveCostEvent, in ledger: LedgerDatabase) async throws -> Response {
        let answer: Answer
        do {
            answer = try await ledger.write { tx in try charge(event, tx) }
        } catch let rejection as PostingRejection {
            throw problem(for: rejection, event: event)
        }
        let status: HTTPResponse.Status = answer.status == "recorded" ? .created : .ok
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return CreditsServer.jsonResponse(status: status, body: try encoder.encode(answer))
    }

    private static func charge(_ event: LiveCostEvent, _ tx: LedgerTransaction) throws -> Answer {
        let key = deductionKey(eventID: event.eventID)
        switch try tx.stage([event.staged]).first {
        case .conflict?:
            throw ProblemDetails(
                status: .conflict, type: "/problems/cost-event-conflict", title: "Conflict",
                detail: "event_id \(event.eventID) was already recorded with different content; the first stands.")
        case .duplicate?:
            return Answer(status: "duplicate", event_id: event.eventID, transfer_id: try tx.reader.transfer(
                idempotencyKey: key)?.id)
        case .staged?, nil:
            let priority = try event.investigation.flatMap {
                try tx.reader.investigationPriority(organisationID: event.organisationID, investigationID: $0)
            } ?? .unprioritised
            let posting = try tx.spend(SpendRequest(
                idempotencyKey: key, organisationID: event.organisationID, purpose: .deduction,
                credits: event.credits, effectiveAt: event.occurredAt, priority: priority, policy: .withinSpendable,
                references: TransferReferences(
                    costEventID: event.eventID, team: event.team, investigation: event.investigation,
                    operation: event.operation)))
            return Answer(status: "recorded", event_id: event.eventID, transfer_id: posting.transfer.id)
        }
    }

    private static func problem(for rejection: PostingRejection, event: LiveCostEvent) -> ProblemDetails {
        switch rejection {
        case .exceedsSpendable(_, let spendable, let block):
            return .paymentRequired(
                organisationID: event.organisationID, spendable: max(.zero, spendable),
                rule: block == .zeroBalance ? .zeroBalance : .reserveFloor, priority: nil,
                purchaseHint: CreditsServer.defaultPurchaseHint)
        case .organisationNotFound:
            return .organisationNotFound
        default:
            return LiveCostEvent.invalid(rejection.description)
        }
    }
}
