import Ledger

/// What the configuration checks of a cost event ask. Batch staging answers from `IngestDirectory`
/// (the tables read once per run); `POST /v1/usage` answers from the ledger by point lookups
/// (`LedgerReader`). Both run `CostEventConfigurationRule`, so an event is refused by the same rule,
/// field and words whichever way it arrives.
public protocol CostEventConfigurationLookup {
    func isOrganisation(_ organisationID: String) throws -> Bool
    func isTeam(_ teamID: String, of organisationID: String) throws -> Bool
    /// The investigation's priority when it is one of the organisation's; nil otherwise.
    func priority(ofInvestigation investigationID: String, of organisationID: String) throws -> Priority?
    /// The organisations that have an investigation of this id (to name the owner of a misattributed one).
    func organisations(havingInvestigation investigationID: String) throws -> [String]
    func acceptsOperation(_ operation: String) throws -> Bool
    /// `Organisation.usageStart`: usage before it is refused.
    func usageStart(of organisationID: String) throws -> Instant?
}

/// The first configuration rule an event breaks, as its rejection rule, field and detail.
public struct CostEventConfigurationViolation: Error, Sendable, Hashable {
    public let rule: RejectionRule
    public let field: String
    public let detail: String
}

/// The configuration rules of a cost event, in order: a configured organisation; one of its teams;
/// one of its investigations (`investigationOfAnotherOrganisation` when the id is another
/// organisation's, `unknownInvestigation` when it is no one's); a configured operation; not before the
/// organisation's start (`UsageDateRule`). On success, the priority the work is charged at.
public enum CostEventConfigurationRule {
    public static func check(
        _ record: CostEventRecord, in configuration: some CostEventConfigurationLookup
    ) throws -> Result<Priority, CostEventConfigurationViolation> {
        func refuse(_ rule: RejectionRule, _ field: String, _ detail: String) -> Result<Priority, CostEventConfigurationViolation> {
            .failure(CostEventConfigurationViolation(rule: rule, field: field, detail: detail))
        }
        let organisationID = record.organisationID
        guard try configuration.isOrganisation(organisationID) else {
            return refuse(.unknownOrganisation, "organisation_id", "\"\(organisationID)\" is not a configured organisation")
        }
        guard try configuration.isTeam(record.team, of: organisationID) else {
            return refuse(.unknownTeam, "team", "\"\(record.team)\" is not a team of \(organisationID)")
        }
        var priority = Priority.unprioritised
        if let investigation = record.investigation {
            guard let found = try configuration.priority(ofInvestigation: investigation, of: organisationID) else {
                let owners = try configuration.organisations(havingInvestigation: investigation)
                if !owners.isEmpty {
                    return refuse(.investigationOfAnotherOrganisation, "investigation",
                                  "\"\(investigation)\" belongs to \(owners.joined(separator: ", ")), not \(organisationID)")
                }
                return refuse(.unknownInvestigation, "investigation",
                              "\"\(investigation)\" is not an investigation of \(organisationID)")
            }
            priority = found
        }
        guard try configuration.acceptsOperation(record.operation) else {
            return refuse(.unknownOperation, "operation", "\"\(record.operation)\" is not a configured operation")
        }
        if let detail = UsageDateRule.violation(record, usageStart: try configuration.usageStart(of: organisationID)) {
            return refuse(.occurredBeforeOrganisationStart, "occurred_at", detail)
        }
        return .success(priority)
    }
}

/// The live path's answers for one event, read in one query (`LedgerReader.eventConfiguration`) before the
/// rule runs: the rule's five questions were five round trips on PostgreSQL, inside the group commit. It
/// answers the rule about its own event only (the rule asks about nothing else); the owners of a
/// misattributed investigation, asked on the way to a refusal, are looked up apart.
public struct PrefetchedEventConfiguration: CostEventConfigurationLookup {
    private let reader: LedgerReader
    private let record: CostEventRecord
    private let answers: EventConfiguration

    public init(_ record: CostEventRecord, reader: LedgerReader) throws {
        self.reader = reader
        self.record = record
        answers = try reader.eventConfiguration(
            organisationID: record.organisationID, team: record.team, investigation: record.investigation,
            operation: record.operation)
    }

    public func isOrganisation(_ organisationID: String) throws -> Bool {
        precondition(organisationID == record.organisationID, "the rule asks about its own event")
        return answers.organisationExists
    }

    public func isTeam(_ teamID: String, of organisationID: String) throws -> Bool {
        precondition((teamID, organisationID) == (record.team, record.organisationID), "the rule asks about its own event")
        return answers.teamExists
    }

    public func priority(ofInvestigation investigationID: String, of organisationID: String) throws -> Priority? {
        precondition((investigationID, organisationID) == (record.investigation, record.organisationID),
                     "the rule asks about its own event")
        return answers.investigationPriority
    }

    public func organisations(havingInvestigation investigationID: String) throws -> [String] {
        try reader.organisationsWithInvestigation(investigationID)
    }

    public func acceptsOperation(_ operation: String) throws -> Bool {
        precondition(operation == record.operation, "the rule asks about its own event")
        return answers.acceptsOperation
    }

    public func usageStart(of organisationID: String) throws -> Instant? {
        precondition(organisationID == record.organisationID, "the rule asks about its own event")
        return answers.usageStart
    }
}
