import Foundation
import Hummingbird
import Ingest
import Ledger

/// One cost event posted live to `POST /v1/usage`, validated by Ingest's parser, the one batch ingest
/// uses (PRODUCT.md, cost events): same accepted forms, same rejection rules, and the same content hash,
/// so an event sent live and found again in a batch file is a duplicate, not a conflict.
///
/// A charge of `quantity` + `unit` is priced by the organisation's rate card exactly as batch ingest
/// prices it (`RateCardPricing`), inside the group commit, so the gate decides on the priced credits and
/// the rate used is the one stored with the event.
public struct LiveCostEvent: Sendable, Equatable {
    public let eventID: String
    public let organisationID: String
    public let team: String
    public let investigation: String?
    public let operation: String
    /// The parsed record; its `charge` is stated credits or a quantity still to be priced.
    public let record: CostEventRecord
    public let occurredAt: Instant
    /// As batch ingest stores it: the attributes, or attributes and unknown fields under one object.
    public let attributesJSON: String?
    /// SHA-256 of the event's canonical bytes, exactly as batch ingest computes it.
    public let contentSHA256: ContentDigest

    /// The file name rejections and staging record for live events.
    public static let sourceName = "POST /v1/usage"

    /// Parses and validates a request body; the problem names the field and the rejection rule.
    public static func parse(_ body: Data) throws(ProblemDetails) -> LiveCostEvent {
        switch CostEventParser(displayName: sourceName).parse(Array(body), line: 1) {
        case .rejected(let rejection):
            throw invalid(rejection)
        case .event(let record):
            if let rejection = RateCardPricing.statedChargeRejection(record) { throw invalid(rejection) }
            return LiveCostEvent(
                eventID: record.eventID, organisationID: record.organisationID, team: record.team,
                investigation: record.investigation, operation: record.operation, record: record,
                occurredAt: record.occurredAt, attributesJSON: record.storedAttributesJSON,
                contentSHA256: .sha256(of: record.canonicalBytes))
        }
    }

    /// The credits stated in the body; nil when the event gives a quantity to price.
    public var statedCredits: Credits? { record.credits }

    /// Prices the charge by the rate card as `reader` sees it (the organisation's entry, else the default
    /// card's); 400 with batch ingest's rule (`noRateCardEntry`, ...) when it cannot be priced.
    func priced(reader: LedgerReader) throws -> (credits: Credits, pricing: RatePricing?) {
        switch try RateCardPricing.charge(of: record, rate: reader.rate) {
        case .priced(let credits, let pricing): return (credits, pricing)
        case .rejected(let rejection): throw Self.invalid(rejection)
        }
    }

    /// The event as staging stores it, with its priced credits and the rate used; `sourceFile` says it
    /// came through the live API.
    public func staged(credits: Credits, pricing: RatePricing?) -> StagedCostEvent {
        StagedCostEvent(
            eventID: eventID, contentSHA256: contentSHA256, organisationID: organisationID, team: team,
            investigation: investigation, operation: operation, credits: credits, pricing: pricing,
            occurredAt: occurredAt, attributesJSON: attributesJSON, sourceFile: Self.sourceName, sourceLine: 1)
    }

    /// A rejection as a 400 problem: the field and detail, and the rule's name as `rule`.
    static func invalid(_ rejection: Rejection) -> ProblemDetails {
        invalid(
            [rejection.field.map { "\($0): " }, rejection.detail].compactMap { $0 }.joined(),
            rule: rejection.rule.code)
    }

    static func invalid(_ detail: String, rule: String? = nil) -> ProblemDetails {
        ProblemDetails(
            status: .badRequest, problem: .invalidCostEvent, title: "Bad Request", detail: detail,
            extensions: rule.map { ["rule": .string($0)] } ?? [:])
    }

    /// The configuration checks batch staging makes, by the same rule (`CostEventConfigurationRule`):
    /// refused with the same rule, field and words. Returns the priority the work is charged at. Point
    /// lookups only, in one query: this runs inside the group commit, where every microsecond (and on
    /// PostgreSQL every round trip) is paid by the whole group.
    static func checkConfiguration(_ event: LiveCostEvent, reader: LedgerReader) throws -> Priority {
        let configuration = try PrefetchedEventConfiguration(event.record, reader: reader)
        switch try CostEventConfigurationRule.check(event.record, in: configuration) {
        case .success(let priority):
            return priority
        case .failure(let violation) where violation.rule == .unknownOrganisation:
            throw ProblemDetails.organisationNotFound
        case .failure(let violation):
            throw invalid("\(violation.field): \(violation.detail)", rule: violation.rule.code)
        }
    }
}

/// `POST /v1/usage`: records a cost event and charges it at once, behind the credit gate.
///
/// In one savepoint of a group commit (`GroupCommitQueue`) the event is priced (a quantity by the rate
/// card, as batch ingest prices it), staged (same table and dedupe as batch ingest) and, if new, charged
/// as a deduction keyed `deduction:cost-event:<event_id>` (the key reconcile uses) within the spendable
/// balance for the work's priority, as seen after every event before it. If another request took the
/// credits after the gate's check, or the priced credits exceed what is spendable, the ledger refuses the
/// spend, the staging rolls back with it, and the answer is 402. The answer is sent after the group has
/// committed.
/// Answers: 201 recorded, 200 duplicate (same id and content), 409 conflict (same id, other content), 402,
/// 403, 400, 503 (the ledger is busy or too many events are waiting).
public enum UsageRoute {
    /// The spending routes to pass in `ServiceDependencies.spendingRoutes`.
    public static func spendingRoutes(ledger: any LiveLedger) -> SpendingRoutes {
        let commits = GroupCommitQueue<LiveCostEvent, Answer>(ledger: ledger, label: "credits.usage.commit") {
            transaction, event in try charge(event, transaction)
        }
        return SpendingRoutes(gate: LedgerCreditGate(ledger: ledger)) { request, _ in
            let event = try await event(from: request)
            // A quantity is priced inside the group commit, where the spend is decided; before it the gate
            // only asks for a positive spendable balance.
            return SpendIntent(
                organisationID: event.organisationID, investigationID: event.investigation,
                credits: event.statedCredits, costEventID: event.eventID, effectiveAt: event.occurredAt)
        } register: { group in
            group.post("usage") { request, context in
                try await record(try await event(from: request), as: .apiKey(id: context.keyID), commits: commits)
            }
        }
    }

    static func event(from request: Request) async throws -> LiveCostEvent {
        // Already collected and bounded by BodyLimitMiddleware.
        let body = try await request.body.collect(upTo: .max)
        return try LiveCostEvent.parse(Data(body.readableBytesView))
    }

    struct Answer: Encodable, Sendable {
        enum Status: String, Encodable, Sendable {
            /// Charged now (201).
            case recorded
            /// The same event was recorded before (200).
            case duplicate
        }

        let status: Status
        let event_id: String
        let transfer_id: Int64?
    }

    static func record(
        _ event: LiveCostEvent, as actor: Actor, commits: GroupCommitQueue<LiveCostEvent, Answer>
    ) async throws -> Response {
        let answer: Answer
        do {
            answer = try await commits.commit(event, as: actor)
        } catch let rejection as PostingRejection {
            throw problem(for: rejection, event: event)
        }
        let status: HTTPResponse.Status = answer.status == .recorded ? .created : .ok
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return CreditsServer.jsonResponse(status: status, body: try encoder.encode(answer))
    }

    private static func charge(_ event: LiveCostEvent, _ tx: LedgerTransaction) throws -> Answer {
        let key = IdempotencyKey.deduction(costEventID: event.eventID)
        let priority = try LiveCostEvent.checkConfiguration(event, reader: tx.reader)
        let (credits, pricing) = try event.priced(reader: tx.reader)
        switch try tx.stage([event.staged(credits: credits, pricing: pricing)]).first {
        case .conflict?:
            throw ProblemDetails(
                status: .conflict, problem: .costEventConflict, title: "Conflict",
                detail: "event_id \(event.eventID) was already recorded with different content; the first stands.")
        case .duplicate?:
            return Answer(
                status: .duplicate, event_id: event.eventID,
                transfer_id: try tx.reader.deductionCharging(costEventID: event.eventID))
        case .staged?, nil:
            let posting: Posting
            do {
                posting = try tx.spendLeavingHolds(SpendRequest(
                    idempotencyKey: key, organisationID: event.organisationID, purpose: .deduction,
                    credits: credits, effectiveAt: event.occurredAt, priority: priority, policy: .withinSpendable,
                    references: TransferReferences(
                        costEventID: event.eventID, team: event.team, investigation: event.investigation,
                        operation: event.operation)))
            } catch PostingRejection.budgetExceeded(let refusal) {
                throw ProblemDetails.paymentRequired(
                    refusal, requested: refusal.requested, priority: priority == .unprioritised ? nil : priority.rank,
                    purchaseHint: CreditsServer.defaultPurchaseHint)
            } catch PostingRejection.exceedsSpendable(let requested, let spendable, let rule) {
                // Answered here, where the priority the work was judged at is known.
                throw ProblemDetails.paymentRequired(
                    SpendRefusal(rule: rule, scope: .organisation(event.organisationID), requested: requested,
                                 spendable: max(.zero, spendable)),
                    requested: requested, priority: priority == .unprioritised ? nil : priority.rank,
                    purchaseHint: CreditsServer.defaultPurchaseHint)
            }
            return Answer(status: .recorded, event_id: event.eventID, transfer_id: posting.transfer.id)
        }
    }

    private static func problem(for rejection: PostingRejection, event: LiveCostEvent) -> ProblemDetails {
        switch rejection {
        case .exceedsSpendable(let requested, let spendable, let rule):
            return .paymentRequired(
                SpendRefusal(rule: rule, scope: .organisation(event.organisationID), requested: requested,
                             spendable: max(.zero, spendable)),
                requested: requested, priority: nil, purchaseHint: CreditsServer.defaultPurchaseHint)
        case .budgetExceeded(let refusal):
            return .paymentRequired(refusal, requested: refusal.requested, priority: nil,
                                    purchaseHint: CreditsServer.defaultPurchaseHint)
        case .organisationNotFound:
            return .organisationNotFound
        default:
            return LiveCostEvent.invalid(rejection.description)
        }
    }
}
