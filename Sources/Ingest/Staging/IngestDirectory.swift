import Ledger

/// The configuration ingest checks records against, read once per run: organisations with their
/// teams and investigations, and the rate cards. Pure lookups afterwards, no database access.
public struct IngestDirectory: Sendable {
    struct OrganisationEntry: Sendable {
        var teams: Set<String>
        var investigations: Set<String>
    }

    private var organisations: [String: OrganisationEntry] = [:]
    /// Investigation id to the organisations that have one of that name.
    private var investigationOwners: [String: [String]] = [:]
    /// `org|operation|unit` (org empty for the default card).
    private var rates: [String: Credits] = [:]

    /// Reads the configuration tables.
    public init(reader: LedgerReader) throws {
        for organisation in try reader.organisations() {
            organisations[organisation.id] = OrganisationEntry(
                teams: Set(organisation.teams.map(\.id)), investigations: Set(organisation.investigations.map(\.id)))
            for investigation in organisation.investigations {
                investigationOwners[investigation.id, default: []].append(organisation.id)
            }
        }
        for entry in try reader.rateCards() {
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

    /// The first configuration rule the record breaks, as (rule, field, detail); nil when it fits.
    func check(_ record: CostEventRecord) -> (RejectionRule, String, String)? {
        guard let organisation = organisations[record.organisationID] else {
            return (
                .unknownOrganisation, "organisation_id",
                "\"\(record.organisationID)\" is not a configured organisation")
        }
        guard organisation.teams.contains(record.team) else {
            return (.unknownTeam, "team", "\"\(record.team)\" is not a team of \(record.organisationID)")
        }
        if let investigation = record.investigation, !organisation.investigations.contains(investigation) {
            if let owners = investigationOwners[investigation] {
                let ownerList = owners.joined(separator: ", ")
                return (.investigationOfAnotherOrganisation, "investigation",
                        "\"\(investigation)\" belongs to \(ownerList), not \(record.organisationID)")
            }
            return (.unknownInvestigation, "investigation",
                    "\"\(investigation)\" is not an investigation of \(record.organisationID)")
        }
        return nil
    }
}

/// Prices quantity × rate exactly, rounding once to the micro-credit, half-even (the rule is named
/// so a reviewer can check it: `RoundingRule.halfEven`).
enum Pricing {
    static func credits(quantity: ExactDecimal, rate: Credits) -> Credits? {
        var divisor: Int64 = 1
        for _ in 0..<quantity.scale { divisor *= 10 }
        return Checked.multiplyDivide(quantity.significand, rate.microcredits, divisor, .halfEven)
            .map { Credits(microcredits: $0) }
    }
}
