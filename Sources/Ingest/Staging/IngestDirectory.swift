import Ledger

/// The configuration ingest checks records against, read once per run: organisations with their
/// teams and investigations, the operations, and the rate cards. Pure lookups afterwards, no
/// database access.
public struct IngestDirectory: Sendable {
    struct OrganisationEntry: Sendable {
        var teams: Set<String>
        var investigations: [String: Priority]
        /// `Organisation.usageStart`: usage before it is refused.
        var usageStart: Instant?
    }

    private var organisations: [String: OrganisationEntry] = [:]
    /// Investigation id to the organisations that have one of that name.
    private var investigationOwners: [String: [String]] = [:]
    /// `org|operation|unit` (org empty for the default card).
    private var rates: [String: Credits] = [:]
    /// The operations events may name; nil when none are configured (any is accepted).
    private var operations: Set<String>?

    /// Reads the configuration tables.
    public init(reader: LedgerReader) throws {
        self.init(try reader.ingestConfiguration())
    }

    /// The configuration as a store read it (`StagingStore.ingestConfiguration`).
    public init(_ configuration: IngestConfiguration) {
        let earliest = configuration.usageEarliest
        for organisation in configuration.organisations {
            organisations[organisation.id] = OrganisationEntry(
                teams: Set(organisation.teams.map(\.id)),
                investigations: Dictionary(organisation.investigations.map { ($0.id, $0.priority) }, uniquingKeysWith: { first, _ in first }),
                usageStart: organisation.usageStart(earliest: earliest))
            for investigation in organisation.investigations {
                investigationOwners[investigation.id, default: []].append(organisation.id)
            }
        }
        operations = configuration.operations.map(Set.init)
        for entry in configuration.rateCards {
            rates[Self.rateKey(entry.organisationID ?? "", entry.operation, entry.unit)] = entry.creditsPerUnit
        }
    }

    private static func rateKey(_ organisation: String, _ operation: String, _ unit: String) -> String {
        organisation + "|" + operation + "|" + unit
    }

    /// The rate for an operation and unit: the organisation's own entry, else the default card.
    public func rate(organisationID: String, operation: String, unit: String) -> Credits? {
        rates[Self.rateKey(organisationID, operation, unit)] ?? rates[Self.rateKey("", operation, unit)]
    }

    /// The first configuration rule the record breaks (`CostEventConfigurationRule`); nil when it fits.
    func check(_ record: CostEventRecord) -> CostEventConfigurationViolation? {
        // The directory's answers never throw: they are dictionary lookups.
        guard case .failure(let violation) = try? CostEventConfigurationRule.check(record, in: self) else { return nil }
        return violation
    }
}
/// The batch path's answers: the configuration read once per run.
extension IngestDirectory: CostEventConfigurationLookup {
    public func isOrganisation(_ organisationID: String) -> Bool { organisations[organisationID] != nil }

    public func isTeam(_ teamID: String, of organisationID: String) -> Bool {
        organisations[organisationID]?.teams.contains(teamID) ?? false
    }

    public func priority(ofInvestigation investigationID: String, of organisationID: String) -> Priority? {
        organisations[organisationID]?.investigations[investigationID]
    }

    public func organisations(havingInvestigation investigationID: String) -> [String] {
        (investigationOwners[investigationID] ?? []).sorted()
    }

    public func acceptsOperation(_ operation: String) -> Bool { operations?.contains(operation) ?? true }

    public func usageStart(of organisationID: String) -> Instant? { organisations[organisationID]?.usageStart }
}
