import Foundation
import Ledger

/// Plan allocations due: for each organisation on a plan, each period from its plan start through
/// the period containing the as-of instant, once per organisation and period.
enum Allocations {
    static func due(reader: LedgerReader, asOf: Instant) throws -> [PlanItem] {
        var items: [PlanItem] = []
        for organisation in try reader.organisations() {
            guard let planID = organisation.planID, let plan = try reader.plan(planID),
                let price = plan.price(in: organisation.currency), let timeZone = TimeZone(identifier: organisation.timeZone)
            else { continue }
            // The last local date in scope: the as-of instant is exclusive.
            let lastDate = LocalDate.of(asOf.adding(milliseconds: -1), in: timeZone)
            let firstDate = organisation.planStart ?? lastDate
            for period in PlanPeriod.sequence(from: firstDate, through: lastDate, plan: plan) {
                let start = period.start.startInstant(in: timeZone)
                guard start < asOf, try !reader.hasAllocation(organisationID: organisation.id, period: period.label) else {
                    continue
                }
                items.append(PlanItem(
                    kind: .allocation, idempotencyKey: IdempotencyKey.allocation(organisationID: organisation.id, period: period.label),
                    organisationID: organisation.id, effectiveAt: start, credits: plan.creditsPerPeriod, price: price,
                    expiresAt: plan.rollover ? nil : period.end.startInstant(in: timeZone),
                    references: TransferReferences(planPeriod: period.label, memo: "plan \(plan.id)")))
            }
        }
        return items
    }
}

/// Grants that expire by the as-of instant: those already in the ledger with credits left, and
/// those the plan itself creates with an expiry in scope.
enum Expiries {
    static func due(
        reader: LedgerReader, asOf: Instant, plannedAllocations: [PlanItem], plannedTopUps: [CompletedOrder]
    ) throws -> [PlanItem] {
        var items: [PlanItem] = []
        for grant in try reader.grantsDueToExpire(by: asOf) {
            guard let creator = try reader.transfer(id: grant.transferID), let expiresAt = grant.expiresAt else { continue }
            items.append(expiry(grantKey: creator.idempotencyKey, organisationID: grant.organisationID, at: expiresAt))
        }
        for item in plannedAllocations where item.kind == .allocation {
            guard let expiresAt = item.expiresAt, expiresAt <= asOf else { continue }
            items.append(expiry(grantKey: item.idempotencyKey, organisationID: item.organisationID, at: expiresAt))
        }
        for order in plannedTopUps {
            guard let expiresAt = order.expiresAt, expiresAt <= asOf else { continue }
            items.append(expiry(grantKey: IdempotencyKey.topUp(revolutOrderID: order.orderID),
                                organisationID: order.organisationID, at: expiresAt))
        }
        return items
    }

    private static func expiry(grantKey: String, organisationID: String, at expiresAt: Instant) -> PlanItem {
        PlanItem(
            kind: .expiry, idempotencyKey: IdempotencyKey.expiry(grantKey: grantKey), organisationID: organisationID, effectiveAt: expiresAt,
            grantKey: grantKey, references: TransferReferences(memo: "expiry of \(grantKey)"))
    }
}

/// Usage: every staged cost event not yet charged becomes a deduction at the work's priority,
/// allowed into reserves and down to the organisation's overdraft limit; unusual cases are flagged.
///
/// Deductions are streamed from the database in posting order, never held all at once: first
/// the events of this window (from the previous applied plan's as-of instant), then the usage
/// carried over from earlier windows, which posts after everything else.
struct UsageCharges {
    let reader: LedgerReader
    let asOf: Instant
    private(set) var findings: [Finding] = []
    private var organisations: [String: UsageOrganisation?] = [:]

    init(reader: LedgerReader, asOf: Instant) {
        self.reader = reader
        self.asOf = asOf
    }

    /// Calls `body` with each deduction in posting order; `findings` then holds the flags raised.
    mutating func forEach(_ body: (PlanItem) throws -> Void) throws {
        findings = []
        let previousWindowEnd = try reader.lastAppliedPlanAsOf()
        if let previousWindowEnd, previousWindowEnd < asOf {
            try forEach(from: previousWindowEnd, before: asOf, carriedOver: false, body)
            try forEach(from: nil, before: previousWindowEnd, carriedOver: true, body)
        } else {
            try forEach(from: nil, before: asOf, carriedOver: previousWindowEnd != nil, body)
        }
    }

    private mutating func forEach(
        from: Instant?, before: Instant, carriedOver: Bool, _ body: (PlanItem) throws -> Void
    ) throws {
        try reader.forEachUnchargedEvent(from: from, before: before) { event in
            guard let organisation = try organisation(event.organisationID) else { return }
            try body(PlanItem(
                kind: .deduction, idempotencyKey: IdempotencyKey.deduction(costEventID: event.eventID), organisationID: organisation.id,
                effectiveAt: event.occurredAt, credits: event.credits, priorityRank: priority(of: event, in: organisation).rank,
                overdraftLimit: organisation.overdraftLimit, carriedOver: carriedOver ? true : nil,
                references: TransferReferences(
                    costEventID: event.eventID, team: event.team, investigation: event.investigation,
                    operation: event.operation)))
        }
    }

    private mutating func organisation(_ id: String) throws -> UsageOrganisation? {
        if let known = organisations[id] { return known }
        let organisation = try reader.organisation(id).map(UsageOrganisation.init)
        organisations[id] = organisation
        return organisation
    }

    private mutating func priority(of event: UnchargedEvent, in organisation: UsageOrganisation) -> Priority {
        if !organisation.teams.contains(event.team) {
            flag(FindingCode.usageOnUnknownTeam, event, "team \(event.team) is not configured")
        }
        guard let investigationID = event.investigation else { return .unprioritised }
        guard let investigation = organisation.investigations[investigationID] else {
            flag(FindingCode.usageOnUnknownInvestigation, event, "investigation \(investigationID) is not configured; charged as unprioritised")
            return .unprioritised
        }
        if investigation.status == .closed {
            flag(FindingCode.usageOnClosedInvestigation, event, "investigation \(investigationID) is closed")
        }
        return investigation.priority
    }

    private mutating func flag(_ code: FindingCode, _ event: UnchargedEvent, _ detail: String) {
        findings.append(Finding(
            severity: .exception, code: code, organisationID: event.organisationID, subject: event.eventID,
            detail: "\(detail) (\(event.sourceFile):\(event.sourceLine))"))
    }
}

/// What charging usage needs of an organisation, looked up by id: an event names its team and
/// investigation, and a night has a million events for a few thousand of each.
private struct UsageOrganisation {
    let id: String
    let overdraftLimit: Credits
    let teams: Set<String>
    let investigations: [String: Investigation]

    init(_ organisation: Organisation) {
        id = organisation.id
        overdraftLimit = organisation.overdraftLimit
        teams = Set(organisation.teams.map(\.id))
        investigations = Dictionary(organisation.investigations.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
